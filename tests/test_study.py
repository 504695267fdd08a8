"""The CPU study: its preset's budget rule, its plan, the toy-proxy statistics, and a tiny study that is run,
interrupted and continued without retraining what was finished."""
import json

import numpy as np
import pandas as pd
import pytest

from bench.reports.proxy import bootstrap_mean, compare, proxy_claims, render_proxy_markdown, verdict_of
from bench.runner import compose_config
from bench.study import LEARNED, REFERENCES, is_done, run_study, study_plan


def test_cpu_preset_gives_every_method_the_same_budget(bench_env):
    budgets = set()
    for m, v in LEARNED:
        cfg = compose_config(m, "toy", "cpu", v)
        budgets.add((cfg.batch_size, cfg.train_iters, cfg.img_size))
        assert cfg.max_train_images >= 2000 and cfg.max_test_images >= 200
        assert "smoke" in cfg.method_config             # narrow widths
    assert budgets == {(8, 1000, 64)}
    # gatedconv's own smoke config asks for batch 4 / 20 iterations: the preset's rule wins, --cfg-options win last
    assert compose_config("gatedconv", "toy", "cpu", cfg_options={"train_iters": 3}).train_iters == 3


def test_plan_has_every_learned_configuration_with_three_seeds_and_the_references_once():
    plan = study_plan()
    learned = [r for r in plan if (r.method, r.variant) in LEARNED]
    assert len(learned) == 3 * 9 and {r.seed for r in learned} == {0, 1, 2}
    assert {(r.method, r.variant) for r in plan} == set(LEARNED) | set(REFERENCES)
    assert [r.name for r in study_plan(methods=["swap-full", "telea"])] == [
        "swap-full-seed0", "swap-full-seed1", "swap-full-seed2", "telea-seed0"]


def test_bootstrap_interval_and_verdicts():
    rng = np.random.default_rng(0)
    better = rng.normal(1.0, 1.0, size=(3, 200))
    mean, low, high = bootstrap_mean(better)
    assert low < mean < high and low > 0.7 and high < 1.3
    assert verdict_of(low, high) == "supported"
    assert verdict_of(*bootstrap_mean(-better)[1:]) == "contradicted"
    assert verdict_of(*bootstrap_mean(rng.normal(0, 1, size=(3, 200)))[1:]) == "inconclusive"
    assert bootstrap_mean(better) == bootstrap_mean(better)            # fixed seed: reproducible


def _fake_run(root, method, variant, seed, psnr, l1):
    run = root / "toy" / f"{method}-{variant}" / f"cpu-seed{seed}"
    run.mkdir(parents=True)
    n = len(psnr)
    rows = pd.DataFrame({"index": range(n), "mask_set": "center", "file": [f"{i:05d}.png" for i in range(n)],
                         "hole_ratio": 0.25, "psnr": psnr, "ssim": 0.5, "l1": l1})
    rows.to_csv(run / "per_image.csv", index=False)
    doc = {"schema_version": 1, "method": method, "variant": variant, "display_name": method, "dataset": "toy",
           "split": "test", "preset": "cpu", "seed": seed, "protocol": "paper", "num_images": n,
           "mask_sets": {"center": {"num_images": n, "metrics": {"psnr": float(np.mean(psnr)), "l1": float(np.mean(l1)),
                                                                 "fid": 10.0 + seed}, "reasons": {}}},
           "provenance": {}, "train": {"iterations": 1000}}
    (run / "metrics.json").write_text(json.dumps(doc))


def test_paired_comparison_on_per_image_results(tmp_path):
    rng = np.random.default_rng(1)
    base = rng.normal(20, 3, size=50)
    for s in range(3):
        _fake_run(tmp_path, "swap", "full", s, base + 1.0 + rng.normal(0, 0.3, 50), np.full(50, 10.0))
        _fake_run(tmp_path, "gatedconv", "default", s, base + rng.normal(0, 0.3, 50), np.full(50, 12.0))
    _fake_run(tmp_path, "meanfill", "default", 0, base - 3, np.full(50, 20.0))
    from bench.reports.runs import collect_runs

    frame = collect_runs(tmp_path).frame
    p = compare(frame, ("swap", "full"), ("gatedconv", "default"), "center", "psnr")
    assert p.verdict == "supported" and p.n_seeds == 3 and p.n_images == 50 and 0.8 < p.mean < 1.2
    q = compare(frame, ("gatedconv", "default"), ("swap", "full"), "center", "psnr")
    assert q.verdict == "contradicted"
    lower_is_better = compare(frame, ("swap", "full"), ("meanfill", "default"), "center", "l1")
    assert lower_is_better.verdict == "supported" and lower_is_better.mean == pytest.approx(10.0)
    fid = compare(frame, ("swap", "full"), ("gatedconv", "default"), "center", "fid")
    assert fid.level == "set" and fid.verdict == "inconclusive"       # equal FIDs per seed
    claims = proxy_claims(tmp_path)
    text = render_proxy_markdown(claims)
    assert "Toy-proxy" in text and "not the paper's protocol" in text
    sanity = {c.id: c.verdict for c in claims if c.id.startswith("sanity-")}
    assert sanity["sanity-swap-full-center"] == "supported"


@pytest.mark.slow
def test_tiny_study_runs_then_continues_without_retraining(bench_env, tmp_path):
    opts = ("train_iters=4", "checkpoint_interval=2", "max_test_images=8", "max_train_images=16",
            "evaluation.metrics=[{\"type\":\"PixelMetric\"}]")
    results, out = tmp_path / "study", tmp_path / "reports"
    state = run_study(results, out, jobs=2, seeds=(0,), methods=["gatedconv", "meanfill"], cfg_options=opts,
                      echo=lambda *_: None)
    runs = state["sessions"][-1]["runs"]
    assert runs["gatedconv-seed0"]["status"] == "ok" and runs["meanfill-seed0"]["status"] == "ok"
    (metrics,) = results.glob("toy/gatedconv/*/metrics.json")
    ckpt = metrics.parent / "checkpoints" / "iter_4.pth"
    stamp = ckpt.stat().st_mtime_ns
    assert is_done(metrics.parent, 4)
    metrics.unlink()                                  # as if killed after training, before the results
    state = run_study(results, out, jobs=1, seeds=(0,), methods=["gatedconv", "meanfill"], cfg_options=opts,
                      echo=lambda *_: None)
    runs = state["sessions"][-1]["runs"]
    assert runs["meanfill-seed0"] == "reused" and runs["gatedconv-seed0"]["status"] == "ok"
    assert ckpt.stat().st_mtime_ns == stamp and metrics.is_file()      # evaluated again, not retrained
    assert len(state["sessions"]) == 2 and state["wall_s"] > 0
    assert (out / "PROXY.md").is_file() and (out / "REPORT.md").is_file()


def test_demo_check_compares_each_learned_method_with_the_mean_fill(tmp_path):
    from bench.demo import demo_plan, learned_fill_check

    for method, l1 in (("meanfill", 20.0), ("gatedconv", 18.0), ("pennet", 19.5)):
        _fake_run(tmp_path, method, "default", 0, np.full(10, 20.0), np.full(10, l1))
    for doc_path in tmp_path.rglob("metrics.json"):
        doc = json.loads(doc_path.read_text())
        doc["preset"] = "demo"
        doc_path.write_text(json.dumps(doc))
    rows = {r["method"]: r for r in learned_fill_check(tmp_path)}
    assert set(rows) == {"GatedConv", "PEN-Net"}
    assert rows["GatedConv"]["ok"] and rows["GatedConv"]["ratio"] == pytest.approx(0.9)
    assert not rows["PEN-Net"]["ok"]                   # 2.5 % below: not enough
    assert [r.method for r in demo_plan(["gatedconv"])] == ["gatedconv", "meanfill"]
    assert [r.method for r in demo_plan(["telea"])] == ["telea"]
