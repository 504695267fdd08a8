"""The runner path end to end: config composition, telea run, GAN training killed and resumed,
evaluation killed mid-way and restarted, and the errors a user sees."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import api
from bench.results import load_metrics
from bench.runner import RunError, compose_config, run_dir_for

PY = sys.executable


def test_compose_config_merges_preset_dataset_method(bench_env):
    cfg = compose_config("telea", "toy", "smoke", cfg_options={"max_test_images": 5})
    assert cfg.img_size == 64 and cfg.preset == "smoke"
    assert cfg.test_dataset.img_size == 64 and cfg.test_dataset.max_samples == 5
    assert Path(cfg.test_dataset.data_root).parent == bench_env / "data"
    assert cfg.model.type == "OpenCVInpaintor"
    # the same config always maps to the same run folder (so --resume finds it); another seed does not
    assert run_dir_for(cfg) == run_dir_for(compose_config("telea", "toy", "smoke", cfg_options={"max_test_images": 5}))
    assert run_dir_for(cfg) != run_dir_for(compose_config("telea", "toy", "smoke", seed=1,
                                                          cfg_options={"max_test_images": 5}))


def test_unknown_method_dataset_variant_give_clear_errors(bench_env):
    with pytest.raises(RunError, match="unknown method 'nope'.*telea"):
        compose_config("nope", "toy")
    with pytest.raises(RunError, match="unknown dataset 'nope'"):
        compose_config("telea", "nope")
    with pytest.raises(RunError, match="no variant 'x'"):
        compose_config("telea", "toy", variant="x")


def test_telea_run_writes_valid_metrics(bench_env):
    out = api.run("telea", "toy", "smoke", cfg_options={"max_test_images": 6}, progress=False)
    doc = load_metrics(out.metrics_path)
    assert doc["method"] == "telea" and doc["dataset"] == "toy" and doc["preset"] == "smoke"
    assert set(doc["mask_sets"]) == {"center", "irregular"}
    for name, s in doc["mask_sets"].items():
        assert s["num_images"] == 6
        assert 5 < s["metrics"]["psnr"] < 60, name
        assert 0 < s["metrics"]["ssim"] <= 1, name
        assert len(s["mask_set"]["sha256"]) == 64
    assert doc["mask_sets"]["center"]["mask_set"]["sha256"] != doc["mask_sets"]["irregular"]["mask_set"]["sha256"]
    prov = doc["provenance"]
    assert len(prov["config_hash"]) == 64 and prov["packages"]["torch"] and prov["device"] == "cpu"
    per_image = (out.run_dir / "per_image.csv").read_text().splitlines()
    assert len(per_image) == 1 + 2 * 6 and per_image[0].startswith("index,mask_set,file")
    assert not list(out.run_dir.rglob("*.tmp")), "atomic writes leave no temp files"


def _bench(args, env_extra=None, **kw):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.Popen([PY, "-m", "bench.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kw)


def _wait_for(predicate, proc, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if predicate():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_gan_training_killed_then_resumed_reaches_final_iteration(bench_env):
    args = ["run", "-m", "tinygan", "-d", "toy", "--masks", "center",
            "--cfg-options", "train_iters=30", "--cfg-options", "max_test_images=4"]
    cfg = compose_config("tinygan", "toy", "smoke", cfg_options={"train_iters": 30, "max_test_images": 4})
    ck = run_dir_for(cfg) / "checkpoints"
    proc = _bench(args, {"TINYGAN_TRAIN_SLEEP": "0.1"})
    ok = _wait_for(lambda: (ck / "iter_10.pth").is_file(), proc)
    assert ok, proc.communicate()[0][-3000:]
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (ck.parent / "metrics.json").exists()
    # without --resume the existing run is not silently overwritten
    again = subprocess.run([PY, "-m", "bench.cli", *args], capture_output=True, text=True)
    assert again.returncode != 0 and "--resume" in again.stdout + again.stderr
    resumed = subprocess.run([PY, "-m", "bench.cli", *args, "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert "Resumed" in resumed.stdout + resumed.stderr or "resumed" in (resumed.stdout + resumed.stderr).lower()
    assert (ck / "iter_30.pth").is_file()
    doc = load_metrics(ck.parent / "metrics.json")
    assert doc["train"]["iterations"] == 30
    assert doc["mask_sets"]["center"]["metrics"]["psnr"] > 0


@pytest.mark.slow
def test_evaluation_killed_midway_gives_same_numbers(bench_env, tmp_path):
    opts = {"train_iters": 10, "max_test_images": 12, "eval_batch_size": 2}
    cfg, run_dir = api.prepare_run("tinygan", "toy", "smoke", cfg_options=opts)
    res, _ = api.run_train(cfg, run_dir)
    reference = api.run_eval(cfg, tmp_path / "reference", res.checkpoint, ["center"], progress=False).document

    args = ["eval", "-m", "tinygan", "-d", "toy", "--masks", "center", "--checkpoint", str(res.checkpoint)]
    for k, v in opts.items():
        args += ["--cfg-options", f"{k}={v}"]
    state = run_dir / "eval_state" / "center"
    proc = _bench(args, {"TINYGAN_SLEEP": "0.4"})
    ok = _wait_for(lambda: len(list(state.glob("batch_*.npz"))) >= 2, proc)
    assert ok, proc.communicate()[0][-3000:]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    scored = len(list(state.glob("batch_*.npz")))
    assert 2 <= scored < 6 and not (run_dir / "metrics.json").exists()
    finished = subprocess.run([PY, "-m", "bench.cli", *args], capture_output=True, text=True)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    doc = load_metrics(run_dir / "metrics.json")
    assert doc["mask_sets"]["center"]["metrics"] == reference["mask_sets"]["center"]["metrics"]
    assert doc["mask_sets"]["center"]["num_images"] == 12


def test_eval_state_of_another_checkpoint_is_not_reused(bench_env, tmp_path):
    opts = {"train_iters": 20, "max_test_images": 4, "eval_batch_size": 2}
    cfg, run_dir = api.prepare_run("tinygan", "toy", "smoke", cfg_options=opts)
    res, _ = api.run_train(cfg, run_dir)
    earlier = run_dir / "checkpoints" / "iter_10.pth"
    assert earlier.is_file() and res.checkpoint.name == "iter_20.pth"
    api.run_eval(cfg, run_dir, earlier, ["center"], progress=False)
    mixed = api.run_eval(cfg, run_dir, res.checkpoint, ["center"], progress=False).document
    fresh = api.run_eval(cfg, tmp_path / "fresh", res.checkpoint, ["center"], progress=False).document
    assert mixed["mask_sets"]["center"]["metrics"] == fresh["mask_sets"]["center"]["metrics"]
    key = json.loads((run_dir / "eval_state" / "center" / "state.json").read_text())["key"]
    assert key["model"] == fresh["provenance"]["checkpoint_sha256"]


def test_trained_method_eval_without_checkpoint_is_an_error(bench_env):
    cfg, run_dir = api.prepare_run("tinygan", "toy", "smoke")
    with pytest.raises(RunError, match="--checkpoint"):
        api.run_eval(cfg, run_dir, None, ["center"], progress=False)


@pytest.mark.slow
def test_two_cpu_ranks_train_through_the_launcher(bench_env):
    """torchrun + --launcher pytorch on CPU (gloo, process group set up before the Runner): two ranks train
    through MMSeparateDistributedDataParallel and rank 0 writes the checkpoints."""
    import torch

    torchrun = Path(sys.executable).with_name("torchrun")
    opts = ["--cfg-options", "train_iters=4", "--cfg-options", "checkpoint_interval=2"]
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "bench.cli", "train",
                           "-m", "tinygan", "-d", "toy", "--launcher", "pytorch", *opts],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    cfg = compose_config("tinygan", "toy", "smoke", cfg_options={"train_iters": 4, "checkpoint_interval": 2})
    ck = run_dir_for(cfg) / "checkpoints" / "iter_4.pth"
    assert ck.is_file()
    from bench.engine import load_run_checkpoint

    state = load_run_checkpoint(ck)
    assert state["meta"]["iter"] == 4
    assert any(k.startswith("generator.") for k in state["state_dict"]) and torch.is_tensor(
        next(iter(state["state_dict"].values())))
