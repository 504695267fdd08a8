"""Tables, figures and the report from a fake-but-valid results tree (schema-1 ``metrics.json`` dicts)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

METRIC_KEYS = ("psnr", "ssim", "l1", "mae_rel", "lpips", "fid", "kid_mean", "kid_std", "miou", "miou_hole")
IMG = 64  # fake sample size (pixels)


def _doc(method, variant, dataset, preset, seed, protocol, sets: dict, display_name=""):
    """A schema-1 metrics.json; ``sets``: mask-set name -> (N, metrics dict, reasons dict)."""
    mask_sets = {}
    for name, (n, metrics, reasons) in sets.items():
        full = {k: None for k in METRIC_KEYS}
        full.update(metrics)
        for k in METRIC_KEYS:
            if full[k] is None and k not in reasons:
                reasons = {**reasons, k: "not computed for this method"}
        mask_sets[name] = {"num_images": n, "mask_set": {"sha256": f"sha-{name}-{n}", "path": f"/masks/{name}",
                                                         "num_masks": n},
                           "metrics": full, "reasons": reasons, "extra": {}, "hole_ratio_bins": {},
                           "metric_descriptions": {}, "wall_time_s": 1.5}
    return {"schema_version": 1, "method": method, "variant": variant, "display_name": display_name or method,
            "dataset": dataset, "split": "test", "num_images": max(v[0] for v in sets.values()), "preset": preset,
            "seed": seed, "protocol": protocol, "mask_sets": mask_sets, "bad_files": {"count": 0, "files": {}},
            "train": {"iterations": 20, "wall_time_s": 12.0}, "notes": [],
            "provenance": {"config_hash": "abc123", "packages": {"torch": "2.14.1", "mmengine": "0.10.7"},
                           "device": "cpu", "device_name": "x86_64", "git": {"revision": "deadbeef", "dirty": False},
                           "wall_time_s": {"train": 12.0, "eval": 3.0}, "created": "2026-01-01T00:00:00+00:00"}}


def _write(root: Path, doc: dict, seed_dir: str | None = None) -> Path:
    name = doc["method"] + ("" if doc["variant"] == "default" else f"-{doc['variant']}")
    d = root / doc["dataset"] / name / (seed_dir or f"{doc['preset']}-seed{doc['seed']}-{doc['protocol']}")
    d.mkdir(parents=True, exist_ok=True)
    (d / "metrics.json").write_text(json.dumps(doc))
    return d


def _pix(psnr, ssim, fid, lpips=0.2, kid=0.01, miou=None):
    m = {"psnr": psnr, "ssim": ssim, "fid": fid, "lpips": lpips, "kid_mean": kid, "kid_std": 0.001, "l1": 0.05,
         "mae_rel": 0.1}
    if miou is not None:
        m.update(miou=miou, miou_hole=miou - 0.1)
    return m


def _fake_samples(run_dir: Path, mask_set: str, indices, shade: int, seg=False, attention=False, hole=0.5):
    d = run_dir / "samples" / mask_set
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(shade)
    for i in indices:
        gt = (rng.random((IMG, IMG, 3)) * 200).astype(np.uint8)
        inp = gt.copy()
        h = int(IMG * hole / 2)
        inp[IMG // 2 - h // 2: IMG // 2 + h // 2 + h % 2, IMG // 2 - h: IMG // 2 + h] = 255
        out = np.clip(gt.astype(int) + shade, 0, 255).astype(np.uint8)
        stem = f"{i:05d}"
        Image.fromarray(inp).save(d / f"{stem}_input.png")
        Image.fromarray(out).save(d / f"{stem}_output.png")
        Image.fromarray(gt).save(d / f"{stem}_gt.png")
        if seg:
            ids = (np.arange(IMG)[:, None] // (IMG // 4) + np.zeros((1, IMG), int)).astype(np.uint8)
            Image.fromarray(ids).save(d / f"{stem}_seg.png")
            gt_ids = ids.copy()
            gt_ids[:4] = 255
            Image.fromarray(gt_ids).save(d / f"{stem}_seg_gt.png")
        if attention:
            q = 8
            match = rng.integers(0, q * q, size=(q, q))
            np.savez_compressed(d / f"{stem}_attention.npz", **{"swap_match" if shade % 2 else "match": match})


def _per_image(run_dir: Path, mask_sets, n: int, base: float, seed: int):
    rng = np.random.default_rng(seed)
    rows = []
    for ms in mask_sets:
        for i in range(n):
            r = 0.5 if ms == "center" else float(rng.uniform(0.02, 0.6))
            rows.append({"index": i, "mask_set": ms, "file": f"img{i}.png", "hole_ratio": r,
                         "psnr": base - 10 * r + rng.normal(0, 0.5), "ssim": 0.9 - 0.5 * r + rng.normal(0, 0.01),
                         "l1": 0.05, "mae_rel": 0.1, "lpips": 0.05 + 0.3 * r + rng.normal(0, 0.01)})
    pd.DataFrame(rows).to_csv(run_dir / "per_image.csv", index=False)


def _scalars(run_dir: Path, iters=20, keys=("loss", "loss_l1", "loss_gan")):
    d = run_dir / "checkpoints" / "20260101_000000" / "vis_data"
    d.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"lr": 1e-4, "iter": 0, "time": 0.1})]  # no loss keys: ignored
    lines += [json.dumps({"iter": i, **{k: 1.0 / (i + 1) + j for j, k in enumerate(keys)}, "lr": 1e-4})
              for i in range(1, iters + 1)]
    (d / "scalars.json").write_text("\n".join(lines) + "\n")


def make_results_tree(root) -> Path:
    root = Path(root)
    both = ("center", "irregular")
    # Outdoor Scenes, paper protocol (N=300): SWAP full with two seeds.
    for seed, p in ((0, 21.5), (1, 21.7)):
        _write(root, _doc("swap", "full", "outdoor", "paper", seed, "paper",
                          {"center": (300, _pix(p, 0.82, 37.0 + seed, miou=0.72), {}),
                           "irregular": (300, _pix(20.0, 0.79, 36.0), {})}, "SWAP"))
    _write(root, _doc("sgenet", "default", "outdoor", "paper", 0, "paper",
                      {"center": (300, _pix(20.0, 0.80, 40.0, miou=0.66), {}),
                       "irregular": (300, _pix(19.0, 0.75, 39.0), {})}, "SGE-Net"))
    # GatedConv: FID null with a reason.
    _write(root, _doc("gatedconv", "default", "outdoor", "paper", 0, "paper",
                      {"center": (300, _pix(19.0, 0.74, None), {"fid": "Inception weights not found"})}, "GatedConv"))
    # EdgeConnect under another protocol -> marked.
    _write(root, _doc("edgeconnect", "default", "outdoor", "paper", 0, "edgeconnect",
                      {"center": (300, _pix(19.5, 0.77, 41.0), {})}, "EdgeConnect"))
    # Table 3 variants (outdoor, paper).
    for v, p, f in (("base", 17.0, 58.0), ("att", 19.5, 44.0), ("swap", 20.9, 39.0)):
        _write(root, _doc("swap", v, "outdoor", "paper", 0, "paper",
                          {"center": (300, _pix(p, 0.6 + 0.05 * len(v), f), {})}, "SWAP"))
    # Toy smoke runs: no paper values; samples, per-image values and training logs for the figures.
    toy = {}
    for m, v, base, shade in (("telea", "default", 18.0, 10), ("swap", "full", 22.0, 21), ("swap", "att", 21.0, 30),
                              ("pennet", "default", 19.0, 40)):
        toy[(m, v)] = d = _write(root, _doc(m, v, "toy", "smoke", 0, "paper",
                                            {ms: (8, _pix(base, 0.7, 80.0, miou=0.4 if m == "swap" else None), {})
                                             for ms in both}, "Telea (OpenCV)" if m == "telea" else m))
        _per_image(d, both, 40, base, shade)
        _fake_samples(d, "irregular", range(6) if m != "pennet" else range(1, 6), shade, seg=(m == "swap"),
                      attention=(m == "swap"), hole=0.3)
        if m != "telea":
            _scalars(d)
    return root


@pytest.fixture(scope="module", autouse=True)
def _low_dpi():
    """Figures at 100 dpi in tests (2 shared CPU cores); sizes are checked against ``style.DPI``."""
    from bench.reports import style

    old = style.DPI
    style.DPI = 100
    yield
    style.DPI = old


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return make_results_tree(tmp_path_factory.mktemp("results"))


@pytest.fixture(scope="module")
def tables_out(tree, tmp_path_factory):
    from bench.reports import write_tables

    out = tmp_path_factory.mktemp("reports")
    text, paths = write_tables(tree, out, ("md", "tex", "csv", "html"))
    return text, paths, out


def _group(md: str, title: str) -> str:
    """The markdown table under one group heading."""
    part = md.split(f"**{title}**", 1)[1]
    return part.split("\n\n", 2)[1]


def _row(block: str, label: str) -> list[str]:
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and re.sub(r"[*†‡¶#§]", "", cells[0]).strip() == label:
            return cells
    raise AssertionError(f"no row {label!r} in\n{block}")


# ----------------------------------------------------------------------------------------------- tables
def test_table1_mean_std_delta_and_runs(tables_out):
    text, _, _ = tables_out
    block = _group(text, "Outdoor Scenes, centre holes")
    swap = _row(block, "SWAP (ours)")
    assert swap[1:4] == ["**21.18**", "**21.60 ± 0.14**", "+0.42"]  # paper | reproduced (2 seeds) | Δ
    assert swap[-2:] == ["300", "2 (seeds 0,1)"]
    sge = _row(block, "SGE-Net")
    assert sge[1:4] == ["20.53", "20.00", "−0.53"]
    assert sge[7:10] == ["40.67", "40.00", "−0.67"]  # FID paper | reproduced | Δ
    assert _row(block, "PEN-Net")[1:4] == ["18.58", "not run", "–"]  # paper row without a run


def test_table1_null_metric_and_other_protocol_are_marked(tables_out):
    text, _, _ = tables_out
    block = _group(text, "Outdoor Scenes, centre holes")
    gated = _row(block, "GatedConv")
    assert gated[8] == "–‡" and gated[9] == "–"
    assert "‡ FID null: Inception weights not found — Outdoor Scenes, centre holes: GatedConv" in text
    edge = _row(block, "EdgeConnect")
    assert edge[0] == "EdgeConnect†"
    foot = [line for line in text.splitlines() if line.startswith("†")]
    assert foot and "protocol edgeconnect (paper: paper)" in foot[0] and "EdgeConnect" in foot[0]
    assert "GatedConv" not in foot[0]  # paper-protocol rows are not marked


def test_table1_toy_rows_have_no_paper_value(tables_out):
    text, _, _ = tables_out
    block = _group(text, "toy, centre holes")
    telea = _row(block, "Telea (OpenCV)")
    assert telea[1] == "–" and telea[3] == "–" and telea[2] == "18.00"
    assert "†" not in telea[0]
    assert _row(block, "SWAP (ours)")[2] == "**22.00**"  # best PSNR among toy rows


def test_table2_and_table3(tables_out):
    text, _, _ = tables_out
    t2 = text.split("## Table 2", 1)[1].split("## Table 3", 1)[0]
    block = _group(t2, "Outdoor Scenes, centre holes")
    swap = _row(block, "SWAP (ours)")
    assert swap[1] == "**0.71**§" and swap[2] == "**0.720 ± 0.000**" and swap[3] == "+0.010"
    assert _row(block, "SPG-Net")[2] == "not run"
    assert "§ the paper does not state which holes Table 2 used" in t2
    assert "Cityscapes, (mask set not stated)" in t2
    t3 = text.split("## Table 3", 1)[1]
    block = _group(t3, "Outdoor Scenes, centre holes")
    base = _row(block, "Ours (Base)")
    assert base[1:3] == ["✗", "✗"] and base[3:6] == ["17.43§", "17.00", "−0.43"]
    full = _row(block, "Ours (Full)")
    assert full[1:3] == ["✓", "✓"] and full[3:6] == ["**21.18**§", "**21.60 ± 0.14**", "+0.42"]
    assert "compared with centre holes" in t3
    irr = _group(t3, "Outdoor Scenes, irregular holes")
    assert _row(irr, "Ours (Full)")[3] == "–"  # no paper value for irregular holes


def test_latex_booktabs_and_best_in_bold(tables_out):
    _, paths, out = tables_out
    tex = (out / "tables" / "table1.tex").read_text()
    for rule in (r"\toprule", r"\midrule", r"\bottomrule", r"\cmidrule"):
        assert rule in tex
    assert tex.index(r"\toprule") < tex.index(r"\midrule") < tex.index(r"\bottomrule")
    ost = tex.split(r"\textit{Outdoor Scenes, centre holes}")[1].split(r"\midrule")[0]
    swap = next(line for line in ost.splitlines() if line.startswith("SWAP (ours)"))
    sge = next(line for line in ost.splitlines() if line.startswith("SGE-Net"))
    assert r"\textbf{21.60 $\pm$ 0.14}" in swap  # PSNR: higher is better
    assert r"\textbf{37.50 $\pm$ 0.71}" in swap  # FID: lower is better
    assert r"\textbf{40.00}" not in sge and "40.00" in sge
    assert r"\textsuperscript{\ddag}" in tex and r"EdgeConnect\textsuperscript{\dag}" in tex
    t3 = (out / "tables" / "table3.tex").read_text()
    ost3 = t3.split(r"\textit{Outdoor Scenes, centre holes}")[1].split(r"\midrule")[0]
    base = next(line for line in ost3.splitlines() if line.startswith("Ours (Base)"))
    assert r"\textbf{58.00}" not in base and r"\textbf{17.00}" not in base  # worst FID / PSNR not bold
    assert r"\begin{tabular}" in t3 and r"\end{table*}" in t3
    assert "_" not in t3.replace(r"\_", "").replace("tab:table3", "")  # everything escaped


def test_csv_is_tidy_with_stats_and_marks(tables_out):
    _, _, out = tables_out
    df = pd.read_csv(out / "tables" / "table1.csv")
    r = df[(df.dataset == "outdoor") & (df.mask_set == "center") & (df.method == "swap") & (df.metric == "psnr")]
    assert len(r) == 1
    r = r.iloc[0]
    assert r["paper"] == pytest.approx(21.18) and r["mean"] == pytest.approx(21.6)
    assert r["std"] == pytest.approx(np.std([21.5, 21.7], ddof=1), abs=1e-6)
    assert r["delta"] == pytest.approx(0.42, abs=1e-6) and r["runs"] == 2 and bool(r["comparable"])
    e = df[(df.method == "edgeconnect") & (df.metric == "psnr") & (df.dataset == "outdoor")].iloc[0]
    assert not bool(e["comparable"]) and "protocol edgeconnect" in e["off_protocol"]
    g = df[(df.method == "gatedconv") & (df.metric == "fid") & (df.dataset == "outdoor")].iloc[0]
    assert pd.isna(g["mean"]) and g["null_reason"] == "Inception weights not found"
    t3 = pd.read_csv(out / "tables" / "table3.csv")
    assert set(t3[t3.dataset == "outdoor"].variant) == {"base", "att", "swap", "full"}


def test_html_is_self_contained(tables_out):
    _, _, out = tables_out
    page = (out / "tables" / "tables.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert not re.search(r'(src|href)="(http|//)', page)
    for t in ("table1", "table2", "table3"):
        assert f'id="{t}"' in page
    assert "<b>21.60 ± 0.14</b>" in page and "<sup>†</sup>" in page


def test_formats_subset_and_unknown(tree, tmp_path):
    from bench.reports import write_tables

    _, paths = write_tables(tree, tmp_path, ["tex"])
    assert {p.suffix for p in paths} == {".tex"}
    with pytest.raises(ValueError, match="unknown table format"):
        write_tables(tree, tmp_path, ["xls"])


def test_write_tables_api_and_empty_root(tree, tmp_path):
    from bench.reports import write_tables

    text, paths = write_tables(tree, tmp_path / "a")
    assert "Table 1" in text and any(p.name == "table1.md" for p in paths)
    text, _ = write_tables(tmp_path / "nothing", tmp_path / "b")
    assert "No metrics.json" in text and "not run" in text  # the paper's values are still listed


def test_unreadable_metrics_is_reported_not_fatal(tree, tmp_path):
    import shutil

    from bench.reports import write_tables

    root = tmp_path / "res"
    shutil.copytree(tree / "outdoor" / "sgenet", root / "outdoor" / "sgenet")
    bad = root / "outdoor" / "broken" / "x"
    bad.mkdir(parents=True)
    (bad / "metrics.json").write_text("{not json")
    text, _ = write_tables(root, tmp_path / "out", ["md"])
    assert "Skipped unreadable results" in text and "broken" in text


@pytest.mark.slow
@pytest.mark.skipif(not (Path(__file__).resolve().parents[1] / "bench" / "metrics" / "bins.py").is_file(),
                    reason="bench.metrics.bins (used by build_metrics_document) is not there yet")
def test_build_metrics_document_roundtrip(tmp_path):
    """A document from the real writer goes through the tables (imports bench.metrics, hence torch: slow)."""
    from types import SimpleNamespace

    from bench.reports import write_tables
    from bench.results import build_metrics_document

    pi = pd.DataFrame({"index": [0, 1], "mask_set": ["center"] * 2, "file": ["a", "b"], "hole_ratio": [0.25, 0.25],
                       "psnr": [20.0, 22.0]})
    r = SimpleNamespace(name="center", num_images=300, mask_set={"sha256": "x"}, values={"psnr": 21.0, "fid": None},
                        reasons={"fid": "no weights"}, extra={}, per_image=pi, metric_descriptions={},
                        wall_time_s=1.0, bad_files=[])
    doc = build_metrics_document(method="sgenet", variant="default", dataset="outdoor", split="test", preset="paper",
                                 seed=0, protocol="paper", mask_results=[r], provenance={}, display_name="SGE-Net")
    d = tmp_path / "res" / "outdoor" / "sgenet" / "r"
    d.mkdir(parents=True)
    (d / "metrics.json").write_text(json.dumps(doc))
    text, _ = write_tables(tmp_path / "res", tmp_path / "out", ["md"])
    row = _row(_group(text, "Outdoor Scenes, centre holes"), "SGE-Net")
    assert row[1:4] == ["20.53", "21.00", "+0.47"] and row[8] == "–‡"


# ----------------------------------------------------------------------------------------------- claims
def test_every_claim_holds_on_the_papers_own_numbers():
    from bench.reports.claims import CLAIMS, paper_holds

    for c in CLAIMS:
        if c["kind"] != "external":
            assert paper_holds(c) is True, c["id"]


def test_claim_statuses_are_computed(tree):
    from bench.reports.aggregate import aggregate
    from bench.reports.claims import check_claims
    from bench.reports.runs import collect_runs

    res = {c.id: c for c in check_claims(aggregate(collect_runs(tree).frame))}
    assert res["t1-outdoor-center-psnr-swap-vs-sgenet"].status == "reproduced"
    assert "21.60 > SGE-Net 20.00" in res["t1-outdoor-center-psnr-swap-vs-sgenet"].detail
    assert res["t3-outdoor-psnr-order"].status == "reproduced"
    assert res["t3-outdoor-ssim-order"].status == "not reproduced"  # fake Base SSIM 0.80 > Att 0.75
    assert "fails: Ours (Att) vs Ours (Base)" in res["t3-outdoor-ssim-order"].detail
    fid = res["t1-outdoor-center-fid-best"]
    assert fid.status == "not run" and "Inception weights not found" in fid.detail
    assert res["t1-cityscapes-center-psnr-best"].status == "not run"
    assert res["user-study"].status == "not run"
    assert res["t1-outdoor-center-psnr-best"].off_protocol  # EdgeConnect ran another protocol


# ----------------------------------------------------------------------------------------------- figures
@pytest.fixture(scope="module")
def report_out(tree, tmp_path_factory):
    from bench.reports import write_report

    out = tmp_path_factory.mktemp("report")
    return write_report(tree, out), out


def _png_size(p: Path):
    with Image.open(p) as im:
        return im.size


def test_figures_exist_with_expected_pixel_size(report_out):
    from bench.reports.style import DOUBLE, DPI, SINGLE

    _, out = report_out
    figs = out / "figures"
    expected_width = {
        "qualitative_toy_irregular": DOUBLE,  # input + 3 methods + GT = 5 columns: two-column width
        "segmentation_toy_irregular": DOUBLE,
        "attention_toy_irregular": DOUBLE,
        "hole_ratio_toy_irregular": SINGLE,
        "ablation_outdoor_center": SINGLE,
        "training_toy": DOUBLE,
    }
    for stem, width in expected_width.items():
        png, pdf = figs / f"{stem}.png", figs / f"{stem}.pdf"
        assert png.stat().st_size > 5000 and pdf.read_bytes()[:4] == b"%PDF", stem
        w, h = _png_size(png)
        assert w == round(width * DPI), (stem, w)
        assert 0.2 * w < h < 2 * w, (stem, h)
    assert _png_size(figs / "hole_ratio_toy_irregular.png") == (round(SINGLE * DPI), round((1.15 * 3 + 0.55) * DPI))
    assert _png_size(figs / "ablation_outdoor_center.png") == (round(SINGLE * DPI), round(1.7 * DPI))
    assert not (figs / "hole_ratio_toy_center.png").exists()  # centre holes: one bin, nothing to plot
    assert not (figs / "qualitative_outdoor_center.png").exists()  # no samples saved
    assert not (figs / "ablation_outdoor_irregular.png").exists()  # one variant only: no ablation


def test_qualitative_grid_shows_the_images(report_out):
    _, out = report_out
    a = np.asarray(Image.open(out / "figures" / "qualitative_toy_irregular.png").convert("RGB")).astype(int)
    assert a.std() > 30  # images drawn, not a blank page


def test_requested_images_and_missing_ones(tree, tmp_path):
    from bench.reports.aggregate import aggregate
    from bench.reports.figures import FigureResult, qualitative_figure
    from bench.reports.runs import collect_runs

    rs = collect_runs(tree)
    res = FigureResult()
    rows = qualitative_figure(rs, aggregate(rs.frame), "toy", "irregular", tmp_path, [0, 2, 3], res)
    assert rows == [2, 3] and (tmp_path / "qualitative_toy_irregular.png").is_file()
    assert any("[0] are not in every method's samples/" in n for n in res.notes)  # PEN-Net has no image 0


def test_palettes():
    from bench.reports.figures import colorize

    ids = np.array([[0, 1, 7, 255]], np.uint8)
    ost = colorize(ids, "outdoor")
    assert ost[0].tolist() == [[153, 153, 153], [0, 255, 255], [224, 102, 102], [255, 255, 255]]
    assert colorize(ids, "toy").tolist() == ost.tolist()
    city = colorize(np.array([[0, 18, 19, 255]], np.uint8), "cityscapes")
    assert city[0].tolist() == [[128, 64, 128], [119, 11, 32], [0, 0, 0], [0, 0, 0]]


def test_attention_file_without_a_match_key_is_skipped(tmp_path):
    from bench.reports.figures import _load_match

    np.savez(tmp_path / "a.npz", other=np.zeros((4, 4)))
    m, why = _load_match(tmp_path / "a.npz")
    assert m is None and "no 'swap_match' or 'match'" in why
    np.savez(tmp_path / "b.npz", match=np.arange(16).reshape(1, 4, 4))
    m, _ = _load_match(tmp_path / "b.npz")
    assert m.shape == (4, 4)


def test_hole_bins_ci():
    from bench.reports.figures import hole_bins

    t975_df2 = 4.302652729911275  # Student t 97.5 % quantile, 2 degrees of freedom

    df = pd.DataFrame({"hole_ratio": [0.05, 0.06, 0.07, 0.55], "psnr": [20.0, 22.0, 24.0, 10.0]})
    b = hole_bins(df, ("psnr",)).set_index("bin")
    assert b.loc[0, "psnr_mean"] == pytest.approx(22.0) and b.loc[0, "psnr_n"] == 3
    assert b.loc[0, "psnr_ci"] == pytest.approx(t975_df2 * 2.0 / np.sqrt(3))
    assert np.isnan(b.loc[5, "psnr_ci"])


def test_training_logs(tree):
    from bench.reports.runs import training_logs

    df = training_logs(tree / "toy" / "swap-full" / "smoke-seed0-paper")
    assert list(df.columns) == ["iter", "loss", "loss_l1", "loss_gan"] and len(df) == 20


# ----------------------------------------------------------------------------------------------- report / CLI
def test_report_markdown_and_html(report_out):
    path, out = report_out
    md = path.read_text()
    for s in ("## Claims of the paper", "## What was run", "## Tables", "## Figures", "## What is missing",
              "User study (Sec. 4.4)", "51.8 %", "sha-center-3", "torch", "2.14.1"):
        assert s in md, s
    assert "✅ **reproduced** — SWAP beats SGE-Net in PSNR on OST centre holes" in md
    assert "❌ **not reproduced** — Full > SWAP > Att > Base in SSIM" in md
    assert "⏳ **not run** — SWAP gets the most first places in the user study" in md
    for link in re.findall(r"\]\((figures/[^)]+)\)", md):
        assert (out / link).is_file(), link
    html = (out / "REPORT.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "data:image/png;base64," in html
    assert (out / "tables" / "table1.tex").is_file()


def test_cli_table_plot_report(tree, tmp_path):
    import shutil

    from click.testing import CliRunner

    from bench.cli import main

    root = tmp_path / "res"
    shutil.copytree(tree / "outdoor", root / "outdoor")  # no samples: quick figures only
    rep = tmp_path / "rep"
    r = CliRunner().invoke(main, ["table", "--results", str(root), "--out", str(rep), "--format", "md,csv"])
    assert r.exit_code == 0, r.output
    assert "21.60 ± 0.14" in r.output and (tmp_path / "rep" / "tables" / "table1.csv").is_file()
    assert not (tmp_path / "rep" / "tables" / "table1.tex").exists()
    r = CliRunner().invoke(main, ["plot", "--results", str(root), "--out", str(tmp_path / "rep"), "--images", "x"])
    assert r.exit_code != 0 and "integer ids" in r.output
    r = CliRunner().invoke(main, ["report", "--results", str(root), "--out", str(tmp_path / "rep")])
    assert r.exit_code == 0, r.output
    assert (rep / "REPORT.md").is_file() and (rep / "figures" / "ablation_outdoor_center.png").is_file()


# ----------------------------------------------------------------------------------------------- constant-output guard
def _per_image_values(run_dir: Path, mask_set: str, psnr, ssim, l1, files=None, hole_std=None):
    """A per_image.csv with exactly these per-image values (one mask set)."""
    n = len(psnr)
    df = pd.DataFrame({"index": range(n), "mask_set": mask_set,
                       "file": files or [f"/data/toy/{i:05d}.png" for i in range(n)], "hole_ratio": 0.25,
                       "psnr": psnr, "ssim": ssim, "l1": l1, "mae_rel": 0.1,
                       "hole_std": hole_std if hole_std is not None else [30.0] * n, "hole_std_gt": 40.0})
    df.to_csv(run_dir / "per_image.csv", index=False)


def make_guard_tree(root) -> Path:
    """Toy centre holes: Mean fill constant in every image; GatedConv and PEN-Net with the same per-image results;
    EdgeConnect with those values on other images; Telea and SWAP varying. Table 3: Ours (Att) = Ours (SWAP).
    Outdoor: SGE-Net constant in 90 % of its images beside a varying SWAP (for the claims)."""
    root = Path(root)
    rng = np.random.default_rng(7)
    same = (list(rng.uniform(15, 25, 6)), list(rng.uniform(0.5, 0.9, 6)), list(rng.uniform(2, 9, 6)))

    def run(method, variant, psnr, constant_fill, values=None, files=None, display="", hole_std=None):
        d = _write(root, _doc(method, variant, "toy", "smoke", 0, "paper",
                              {"center": (6, {**_pix(psnr, 0.7, 80.0), "constant_fill": constant_fill}, {})},
                              display or method))
        vals = values or (list(rng.uniform(15, 25, 6)), list(rng.uniform(0.5, 0.9, 6)), list(rng.uniform(2, 9, 6)))
        _per_image_values(d, "center", *vals, files=files, hole_std=hole_std)
        return d

    run("meanfill", "default", 14.0, 1.0, display="Mean fill", hole_std=[0.0] * 6)
    run("gatedconv", "default", 19.0, 0.0, same)
    run("pennet", "default", 19.0, 0.0, same)
    run("edgeconnect", "default", 19.0, 0.0, same, files=[f"/data/toy/other{i}.png" for i in range(6)])
    run("telea", "default", 18.0, 0.0, display="Telea (OpenCV)")
    run("swap", "full", 22.0, 1 / 6)          # one flat image of six: varies, not marked
    twin = (list(rng.uniform(15, 25, 6)), list(rng.uniform(0.5, 0.9, 6)), list(rng.uniform(2, 9, 6)))
    run("swap", "att", 20.0, 0.0, twin)
    run("swap", "swap", 20.0, 0.0, twin)
    for method, p, cf in (("swap", 21.6, 0.0), ("sgenet", 20.0, 0.9)):
        _write(root, _doc(method, "full" if method == "swap" else "default", "outdoor", "paper", 0, "paper",
                          {"center": (300, {**_pix(p, 0.8, 40.0), "constant_fill": cf}, {})}, method))
    return root


@pytest.fixture(scope="module")
def guard_out(tmp_path_factory):
    from bench.reports import write_report, write_tables

    tree = make_guard_tree(tmp_path_factory.mktemp("guard-results"))
    out = tmp_path_factory.mktemp("guard-reports")
    text, _ = write_tables(tree, out, ("md", "tex", "csv", "html"))
    report = write_report(tree, out, figures=False)
    return tree, text, out, report.read_text()


def _cells_with(row, mark):
    return [c for c in row[1:] if c.endswith(mark)]


def test_guard_marks_constant_and_identical_rows_in_markdown(guard_out):
    _, text, out, _ = guard_out
    t1 = text.split("## Table 2", 1)[0]
    block = _group(t1, "toy, centre holes")
    mean_fill = _row(block, "Mean fill")
    assert mean_fill[1] == "–" and mean_fill[2] == "14.00!"       # no paper value; the number is marked
    assert len(_cells_with(mean_fill, "!")) == 5                    # PSNR SSIM FID LPIPS KID
    for label in ("GatedConv", "PEN-Net"):
        row = _row(block, label)
        assert row[2].endswith("≡") and "!" not in "".join(row), label
    for label in ("Telea (OpenCV)", "SWAP (ours)", "EdgeConnect"):   # varying, or the same values on other images
        row = _row(block, label)
        assert not _cells_with(row, "!") and not _cells_with(row, "≡"), label
    foot = {line[0]: line for line in t1.splitlines() if line[:1] in ("!", "≡")}
    assert "outputs constant inside the hole" in foot["!"]
    assert "toy, centre holes: Mean fill (100% of images)" in foot["!"]
    assert "SWAP" not in foot["!"] and "Telea" not in foot["!"]
    assert "toy, centre holes: GatedConv ≡ PEN-Net" in foot["≡"]
    assert "toy, centre holes: PEN-Net ≡ GatedConv" in foot["≡"]
    assert "EdgeConnect" not in foot["≡"]
    # Table 3: the two ablation variants that scored the same outputs
    t3 = text.split("## Table 3", 1)[1]
    block3 = _group(t3, "toy, centre holes")
    assert _row(block3, "Ours (Att)")[4] == "20.00≡" and _row(block3, "Ours (SWAP)")[4] == "20.00≡"
    assert not _cells_with(_row(block3, "Ours (Full)"), "≡")
    assert "Ours (Att) ≡ Ours (SWAP)" in t3
    # Table 2 (segmentation) is not marked; Outdoor: SGE-Net constant, SWAP not
    ost = _group(t1, "Outdoor Scenes, centre holes")
    assert _row(ost, "SGE-Net")[2] == "20.00!" and _row(ost, "SWAP (ours)")[2] == "**21.60**"


def test_guard_marks_in_latex_csv_and_html(guard_out):
    _, _, out, _ = guard_out
    tex = (out / "tables" / "table1.tex").read_text()
    toy = tex.split(r"\textit{toy, centre holes}")[1].split(r"\midrule")[0]
    mean_fill = next(line for line in toy.splitlines() if line.startswith("Mean fill"))
    gated = next(line for line in toy.splitlines() if line.startswith("GatedConv"))
    telea = next(line for line in toy.splitlines() if line.startswith("Telea"))
    assert r"14.00\textsuperscript{!}" in mean_fill and r"\textsuperscript{$\equiv$}" in gated
    assert r"\textsuperscript" not in telea
    assert r"\textsuperscript{!} outputs constant inside the hole" in tex
    assert r"\textsuperscript{$\equiv$} per-image results" in tex and r"GatedConv $\equiv$ PEN-Net" in tex
    assert "≡" not in tex                                              # everything escaped
    df = pd.read_csv(out / "tables" / "table1.csv")
    toy_psnr = df[(df.dataset == "toy") & (df.metric == "psnr")].set_index("method")
    assert bool(toy_psnr.loc["meanfill", "constant_output"]) and toy_psnr.loc["meanfill", "constant_fill"] == 1.0
    assert toy_psnr.loc["gatedconv", "identical_to"] == "PEN-Net"
    assert toy_psnr.loc["pennet", "identical_to"] == "GatedConv"
    assert not bool(toy_psnr.loc["telea", "constant_output"]) and pd.isna(toy_psnr.loc["telea", "identical_to"])
    page = (out / "tables" / "tables.html").read_text()
    assert "<sup>!</sup>" in page and "<sup>≡</sup>" in page and "GatedConv ≡ PEN-Net" in page


def test_guard_warning_in_report_and_claims(guard_out):
    _, _, _, md = guard_out
    tables = md.split("## Tables", 1)[1]
    warn = tables.split("### Table 1", 1)[0]                           # the warning stands before the tables
    assert "⚠️ **Warning: outputs constant inside the hole**" in warn
    assert "toy, centre holes: **Mean fill** (smoke, protocol paper, N=6): 100% of the images (by construction" in warn
    assert "Outdoor Scenes, centre holes: **SGE-Net** (paper, protocol paper, N=300): 90% of the images" in warn
    assert "⚠️ **Warning: identical per-image results**" in warn
    assert "**GatedConv** ≡ **PEN-Net**" in warn and "**Ours (Att)** ≡ **Ours (SWAP)**" in warn
    assert warn.count("≡ **") == 2                                     # each pair once
    for label in ("Telea", "SWAP (ours)", "EdgeConnect"):
        assert label not in warn, label
    assert "⚠️ constant-output guard: 2 row(s) with outputs constant inside the hole (!), 2 pair(s)" in md
    claim = next(line for line in md.splitlines() if "SWAP beats SGE-Net in PSNR on OST centre holes" in line)
    assert claim.startswith("- ✅ **reproduced** ⚠️") and "SGE-Net: outputs constant inside the hole (!)" in claim


def test_normal_results_carry_no_guard_marks(tables_out, report_out):
    text, _, out = tables_out
    assert not re.search(r"\d[!≡]", text) and not any(line[:1] in ("!", "≡") for line in text.splitlines())
    assert r"\textsuperscript{!}" not in (out / "tables" / "table1.tex").read_text()
    path, _ = report_out
    assert "Warning: outputs constant" not in path.read_text() and "Warning: identical" not in path.read_text()


def test_identical_detection_needs_the_same_images_and_other_methods():
    """Same values on other images, or the same method under another configuration, are not 'identical'."""
    from bench.reports.aggregate import aggregate
    from bench.reports.runs import CONSTANT_FILL_LEVELS, per_image_signature

    pi = pd.DataFrame({"index": [0, 1], "mask_set": "center", "file": ["/a/x.png", "/a/y.png"],
                       "psnr": [20.0, 21.0], "ssim": [0.8, 0.7], "l1": [3.0, 4.0]})
    moved = pi.assign(file=["/elsewhere/x.png", "/elsewhere/y.png"])     # same images under another data root
    assert per_image_signature(pi, "center") == per_image_signature(moved, "center")
    assert per_image_signature(pi.assign(file=["z.png", "y.png"]), "center") != per_image_signature(pi, "center")
    assert per_image_signature(pi.assign(psnr=[20.0, 21.0001]), "center") != per_image_signature(pi, "center")
    assert per_image_signature(pi, "irregular") is None and per_image_signature(pd.DataFrame(), "center") is None
    base = dict(dataset="toy", mask_set="center", variant="default", protocol="paper", n=2, seed=0, mask_sha256="s",
                reasons={}, run_dir="r", per_image_sig="same", constant_fill=0.0, **dict.fromkeys(METRIC_KEYS, 1.0))
    frame = pd.DataFrame([dict(base, method="telea", label="Telea", preset="smoke"),
                          dict(base, method="telea", label="Telea", preset="paper"),
                          dict(base, method="gatedconv", label="GatedConv", preset="smoke", constant_fill=0.5)])
    agg = aggregate(frame).set_index(["method", "preset"])
    assert agg.loc[("telea", "smoke"), "identical_to"] == ["GatedConv"]   # not itself under another preset
    assert agg.loc[("gatedconv", "smoke"), "identical_to"] == ["Telea"]
    assert not agg.loc[("gatedconv", "smoke"), "constant"]                 # half the images: not more than half
    from bench.metrics.pixel import CONSTANT_FILL_LEVELS as metric_levels

    assert CONSTANT_FILL_LEVELS == metric_levels
