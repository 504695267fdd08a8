"""`bench perf`: the quick selection runs and writes a JSON + Markdown of the documented shape (times not checked)."""
import json

import pytest
import torch
from click.testing import CliRunner

from bench import perf
from bench.cli import main


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("perf")
    doc, json_path, md_path = perf.run_perf(perf.quick_settings(), out, echo=lambda *_: None)
    return doc, json_path, md_path


def test_quick_run_writes_json_and_markdown(quick_run):
    doc, json_path, md_path = quick_run
    assert json_path.is_file() and md_path.is_file()
    assert json_path.name.startswith("cpu-") and json_path.name.endswith("-quick.json")
    on_disk = json.loads(json_path.read_text())
    assert on_disk["schema"] == perf.SCHEMA
    for key in ("device", "settings", "matmul_peak", "load_average", "methods", "attention", "metrics",
                "evaluation_overhead", "targets", "notes"):
        assert key in on_disk, key
    dev = on_disk["device"]
    assert dev["torch"] == torch.__version__ and dev["threads"] >= 1 and dev["type"] == "cpu"
    assert on_disk["matmul_peak"]["peak_flops"] > 0
    assert len(on_disk["load_average"]["start"]) == 3 and len(on_disk["load_average"]["end"]) == 3
    md = md_path.read_text()
    assert "| method |" in md and "SWAP / CA" in md and "images/s" in md and "| target |" in md


def test_quick_run_method_rows(quick_run):
    doc = quick_run[0]
    rows = {(r["method"], r["size"]): r for r in doc["methods"]}
    assert set(rows) == {("gatedconv", 64), ("telea", 64)}
    g = rows[("gatedconv", 64)]
    assert g["preset"] == "smoke" and {"generator", "disc", "total"} <= set(g["parameters"])
    assert g["gen_flops"] > 0 and g["train_flops"] > g["gen_flops"]
    assert g["optimizers"] == ["generator", "disc"]
    for phase in ("infer", "train"):
        st = g[phase]
        assert st["reps"] >= 1 and st["min_s"] <= st["median_s"] <= st["max_s"]
        assert st["median_s_per_image"] > 0
    assert g["infer_peak_bytes"] is not None and g["train_peak_bytes"] is not None
    assert 0 < g["infer_roofline"]
    t = rows[("telea", 64)]
    assert t["trainable"] is False and t["train"] is None and t["gen_flops"] is None and t["infer"]["reps"] >= 1


def test_quick_run_attention_and_metrics(quick_run):
    doc = quick_run[0]
    att = doc["attention"]
    assert {(r["size"], r["classes"]) for r in att["rows"]} == {(s, k) for s in (16, 32) for k in (1, 8, 20)}
    for r in att["rows"]:
        assert r["ratio"] > 0 and r["swap"]["median_s"] > 0 and r["contextual"]["median_s"] > 0
    assert [m["chunk_size"] for m in att["memory_vs_chunk"]] == [64, 1024]
    assert all(m["estimate_bytes"] > 0 for m in att["memory_vs_chunk"])
    assert att["loop_check"]["aten_ops"]["16"]["swap_k1"] > 0
    names = [r["name"] for r in doc["metrics"]["rows"]]
    # PSNR+SSIM vs skimage: round-robin pairs on the pinned thread, again on torch's default count when larger
    pairs = doc["metrics"]["psnr_ssim_vs_skimage"]
    assert pairs[0]["threads"] == 1 and [p["threads"] for p in pairs[1:]] in ([], [perf.DEFAULT_THREADS])
    for p in pairs:
        for key in ("composite", "raw"):
            assert 0 < p[key]["min"] <= p[key]["median"] <= p[key]["max"]
    assert len(names) == 6 + 3 * (len(pairs) - 1)
    assert any("skimage" in n for n in names) and any("LPIPS" in n for n in names)
    assert {"PSNR+SSIM, torch, composite", "PSNR+SSIM, torch, raw"} <= set(names)
    assert all(r["images_per_s"] > 0 for r in doc["metrics"]["rows"])
    assert {e["method"] for e in doc["evaluation_overhead"]} == {"gatedconv", "telea"}
    assert {t["met"] for t in doc["targets"]} <= {True, False} and len(doc["targets"]) >= 4


def test_time_call_and_summary():
    calls = []
    st = perf.time_call(lambda: calls.append(1), torch.device("cpu"), warmup=2, min_reps=3, max_reps=4, budget_s=0)
    assert st["reps"] == 3 and len(calls) == 5
    assert perf.summarize([3.0, 1.0, 2.0])["median_s"] == 2.0


def test_peak_memory_sees_a_large_cpu_tensor():
    with perf.PeakMemory(torch.device("cpu")) as pm:
        x = torch.ones(64, 1024, 1024)  # 256 MiB
        del x
    assert pm.method
    if pm.method.startswith("rss delta"):
        assert pm.bytes >= 200 * 2 ** 20


def test_counting_flops_of_a_matmul():
    a = torch.randn(32, 64)
    with perf.counting() as c:
        a @ torch.randn(64, 16)
    assert c["flops"] == 2 * 32 * 64 * 16 and c["ops"] >= 1


def test_cli_parses_options_into_settings(tmp_path, monkeypatch):
    seen = {}

    def fake_run(settings, out, echo):
        seen["s"], seen["out"] = settings, out
        j, m = tmp_path / "x.json", tmp_path / "x.md"
        j.write_text("{}")
        m.write_text("| table |")
        return {}, j, m

    monkeypatch.setattr(perf, "run_perf", fake_run)
    res = CliRunner().invoke(main, ["perf", "--methods", "swap,telea", "--device", "cpu", "--size", "256",
                                    "--batch", "2", "--reps", "2", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    s = seen["s"]
    assert s.methods == ("swap", "telea") and s.sizes == (256,) and s.batch == 2 and s.min_reps == s.max_reps == 2
    assert not s.quick and s.threads == 1 and "| table |" in res.output
    res = CliRunner().invoke(main, ["perf", "--quick", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert seen["s"].quick and seen["s"].sizes == (64,)


def _check_bottleneck(b, phase):
    assert b["phase"] == phase and b["time"] == "cpu self time" and b["total_self_ms"] > 0
    assert b["roofline"] > 0 and b["profiled_call_s"] > 0
    assert 1 <= len(b["top"]) <= 3
    for op in b["top"]:
        assert set(op) == {"name", "self_ms", "share", "calls"}
        assert isinstance(op["name"], str) and op["name"] and op["self_ms"] > 0 and 0 < op["share"] <= 1
    assert [op["self_ms"] for op in b["top"]] == sorted((op["self_ms"] for op in b["top"]), reverse=True)


def test_quick_run_bottleneck_only_below_threshold(quick_run):
    doc, _, md_path = quick_run
    thr = doc["settings"]["bottleneck_threshold"]
    md = md_path.read_text()
    for r in doc["methods"]:
        assert "bottleneck" in r
        train, infer = r["train_roofline"], r["infer_roofline"]
        if train is not None and train < thr:
            _check_bottleneck(r["bottleneck"], "train")
            assert f"- {r['method']} @ {r['size']}, train step" in md and "Held back by" in md
        elif infer is not None and infer < thr:
            _check_bottleneck(r["bottleneck"], "infer")
        elif r["trainable"]:
            assert r["bottleneck"] is None
    assert next(r for r in doc["methods"] if r["method"] == "telea")["bottleneck"] is None


def test_bottleneck_forced_and_suppressed_by_threshold():
    dev = torch.device("cpu")
    for thr, expect in ((float("inf"), True), (0.0, False)):
        row = perf.bench_method("gatedconv", 64, perf.quick_settings(bottleneck_threshold=thr), dev, 1e9, [])
        if expect:
            _check_bottleneck(row["bottleneck"], "train")
            assert any(op["name"].startswith("aten::") for op in row["bottleneck"]["top"])
        else:
            assert row["bottleneck"] is None


def test_profile_top_ops_names_the_matmul():
    a, b = torch.randn(256, 256), torch.randn(256, 256)
    res = perf.profile_top_ops(lambda: [a @ b for _ in range(4)] and torch.relu(a), torch.device("cpu"), top=2)
    assert res["top"][0]["name"] in ("aten::mm", "aten::matmul") and len(res["top"]) == 2
    assert res["top"][0]["share"] > 0.5
