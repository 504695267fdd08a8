"""No foreign code runs when loading or resuming a checkpoint, and resume is bit-exact.

* the harness's checkpoints need no global beyond torch's weights-only defaults (no ``builtins.getattr``,
  a gadget: a crafted file reaches a function's ``__globals__`` and writes into the module);
* ``--resume`` never executes ``meta['config']`` (mmengine's ``Runner.resume`` runs it via
  ``Config.fromstring``);
* the ``last_checkpoint`` marker: an empty one does not block resume, one pointing into another folder (a
  copied run) is ignored;
* unreadable checkpoints give one line naming the file, never torch's ``weights_only=False`` advice;
* N iterations == N/2 + resume to N, exactly (RNG states and data order restored).
"""
import shutil
import struct
import zipfile

import pytest
import torch

from bench import api
from bench.engine.checkpoint import load_run_checkpoint, mmengine_allow_list
from bench.runner import latest_checkpoint, train

TINY = {"checkpoint_interval": 2}


def _tiny_run(root, iters, resume=False, name="run"):
    cfg, run_dir = api.prepare_run("tinygan", "toy", "smoke", cfg_options={**TINY, "train_iters": iters},
                                   work_dir=root / name)
    return train(cfg, run_dir, resume=resume), run_dir


def _crafted_pth(path, payload: bytes):
    """A torch zip checkpoint whose data.pkl is ``payload``."""
    torch.save({"x": 1}, path)
    with zipfile.ZipFile(path) as z:
        items = [(n, z.read(n)) for n in z.namelist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for n, data in items:
            z.writestr(n, payload if n.endswith("/data.pkl") else data)
    return path


def _u(s: str) -> bytes:  # pickle BINUNICODE
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def test_harness_checkpoint_needs_no_extra_globals(bench_env):
    res, _ = _tiny_run(bench_env, 2)
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(res.checkpoint)
    allowed = {f"{g.__module__}.{g.__qualname__}" for g in mmengine_allow_list()}
    assert set(unsafe) <= allowed, unsafe
    assert not any("getattr" in g for g in unsafe + sorted(allowed))
    ck = load_run_checkpoint(res.checkpoint)
    assert ck["meta"]["iter"] == 2 and "bench_rng_state" in ck
    assert torch.is_tensor(ck["message_hub"]["log_scalars"]["train/g.loss"]["log_history"])


def test_getattr_gadget_checkpoint_is_refused_without_side_effect(tmp_path):
    import torch._utils as target

    marker = "_bench_gadget_marker"
    # {'gadget': getattr(torch._utils._rebuild_tensor_v2, '__globals__')} and, on the way, globals[marker] = True
    payload = (b"\x80\x02}" + _u("gadget") + b"c__builtin__\ngetattr\nctorch._utils\n_rebuild_tensor_v2\n"
               + _u("__globals__") + b"\x86R" + _u(marker) + b"\x88ss.")
    path = _crafted_pth(tmp_path / "iter_2.pth", payload)
    try:
        with pytest.raises(ValueError) as err:
            load_run_checkpoint(path)
        assert not hasattr(target, marker), "the getattr gadget wrote into torch._utils' globals"
    finally:
        target.__dict__.pop(marker, None)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg and "builtins.getattr" in msg and "bench train" in msg
    assert "weights_only=False" not in msg


def test_resume_never_executes_meta_config(bench_env):
    res, run_dir = _tiny_run(bench_env, 2)
    marker = bench_env / "config_was_executed"
    ck = load_run_checkpoint(res.checkpoint)
    ck["meta"]["config"] = f"import os\nopen({str(marker)!r}, 'w').close()\ngpu_ids = []\n"
    torch.save(ck, res.checkpoint)
    out, _ = _tiny_run(bench_env, 4, resume=True)
    assert not marker.exists(), "resume executed the Python in meta['config']"
    assert out.iterations == 4 and out.checkpoint.name == "iter_4.pth"
    assert "config" not in load_run_checkpoint(out.checkpoint)["meta"]


def test_empty_last_checkpoint_marker_does_not_block_resume(bench_env):
    res, run_dir = _tiny_run(bench_env, 4)
    marker = res.work_dir / "last_checkpoint"
    marker.write_text("")
    assert latest_checkpoint(res.work_dir) == res.work_dir / "iter_4.pth"
    out, _ = _tiny_run(bench_env, 6, resume=True)
    assert out.iterations == 6 and out.checkpoint == res.work_dir / "iter_6.pth"


def test_copied_run_folder_resumes_from_its_own_checkpoint(bench_env):
    res, run_dir = _tiny_run(bench_env, 4, name="original")
    copy = bench_env / "copy"
    shutil.copytree(run_dir, copy)
    assert str(run_dir) in (copy / "checkpoints" / "last_checkpoint").read_text()  # mmengine's absolute path
    (run_dir / "checkpoints" / "iter_4.pth").write_bytes(b"not a checkpoint")  # resuming from it would fail
    assert latest_checkpoint(copy / "checkpoints") == copy / "checkpoints" / "iter_4.pth"
    out, _ = _tiny_run(bench_env, 6, resume=True, name="copy")
    assert out.iterations == 6 and out.checkpoint == copy / "checkpoints" / "iter_6.pth"
    # a marker naming a file elsewhere is never followed; a truncated newest checkpoint is skipped
    (copy / "checkpoints" / "last_checkpoint").write_text(str(bench_env / "elsewhere" / "iter_6.pth"))
    (copy / "checkpoints" / "iter_8.pth").write_bytes(b"PK\x03\x04 cut short")
    assert latest_checkpoint(copy / "checkpoints") == copy / "checkpoints" / "iter_6.pth"


def test_unreadable_checkpoints_give_one_line_naming_the_file(tmp_path):
    import datetime

    cases = {}
    torch.save({"meta": {}, "obj": datetime.date(2021, 6, 1)}, tmp_path / "foreign.pth")  # not in the allow-list
    cases["foreign.pth"] = "does not load"
    (tmp_path / "garbage.pth").write_bytes(b"\x00not a zip at all")
    cases["garbage.pth"] = "not a PyTorch checkpoint"
    torch.save({"w": torch.zeros(1000)}, tmp_path / "full.pth")
    (tmp_path / "truncated.pth").write_bytes((tmp_path / "full.pth").read_bytes()[:2000])
    cases["truncated.pth"] = "not a PyTorch checkpoint"
    for name, expected in cases.items():
        with pytest.raises(ValueError) as err:
            load_run_checkpoint(tmp_path / name)
        msg = str(err.value)
        assert "\n" not in msg and str(tmp_path / name) in msg and expected in msg, msg
        assert "weights_only=False" not in msg and "weights_only" not in msg, msg
    assert "(datetime.date)" in str(pytest.raises(ValueError, load_run_checkpoint, tmp_path / "foreign.pth").value)


def test_legacy_checkpoint_is_refused_then_converted(bench_env):
    import numpy as np
    from mmengine.logging import HistoryBuffer

    from bench.engine.legacy import convert_legacy_checkpoint

    res, _ = _tiny_run(bench_env, 2)
    ck = load_run_checkpoint(res.checkpoint)
    hub = ck["message_hub"]  # as mmengine 0.10.7 writes it: HistoryBuffers, numpy values
    hub["log_scalars"] = {k: HistoryBuffer(v["log_history"].numpy(), v["count_history"].numpy())
                          for k, v in hub["log_scalars"].items()}
    hub["runtime_info"]["eta"] = np.float64(1.5)
    del ck["bench_rng_state"]
    torch.save(ck, res.checkpoint)
    assert "builtins.getattr" in torch.serialization.get_unsafe_globals_in_checkpoint(res.checkpoint)
    with pytest.raises(ValueError, match="older version.*bench.engine.legacy"):
        load_run_checkpoint(res.checkpoint)
    convert_legacy_checkpoint(res.checkpoint)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(res.checkpoint) == []
    out, _ = _tiny_run(bench_env, 4, resume=True)
    assert out.iterations == 4


def test_rng_states_round_trip_through_a_weights_only_checkpoint(tmp_path):
    import random

    import numpy as np

    from bench.engine.resume import capture_rng_state, set_rng_state

    torch.save({"rng": capture_rng_state()}, tmp_path / "rng.pth")
    first = (torch.rand(3), np.random.rand(3), random.random(), np.random.randn())
    set_rng_state(load_run_checkpoint(tmp_path / "rng.pth")["rng"])
    again = (torch.rand(3), np.random.rand(3), random.random(), np.random.randn())
    assert torch.equal(first[0], again[0]) and np.array_equal(first[1], again[1]) and first[2:] == again[2:]


@pytest.mark.slow
def test_swap_resume_is_bit_exact(bench_env, monkeypatch):
    """SWAP's SCO loss samples from the torch RNG and the training masks follow the dataset's visit
    counters: 4 iterations in one go == 2, then resume to 4, to the last bit."""
    opts = {"checkpoint_interval": 2}
    if torch.cuda.is_available():  # CUDA kernels are bit-exact run to run only in deterministic mode
        monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        monkeypatch.setattr(torch.backends.cudnn, "deterministic", torch.backends.cudnn.deterministic)
        monkeypatch.setattr(torch.backends.cudnn, "benchmark", torch.backends.cudnn.benchmark)
        opts["deterministic"] = True
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    try:
        cfg, full_dir = api.prepare_run("swap", "toy", "smoke", cfg_options={**opts, "train_iters": 4},
                                        work_dir=bench_env / "full")
        full = train(cfg, full_dir)
        cfg, split_dir = api.prepare_run("swap", "toy", "smoke", cfg_options={**opts, "train_iters": 2},
                                         work_dir=bench_env / "split")
        train(cfg, split_dir)
        cfg, _ = api.prepare_run("swap", "toy", "smoke", cfg_options={**opts, "train_iters": 4},
                                 work_dir=split_dir)
        split = train(cfg, split_dir, resume=True)
    finally:
        torch.use_deterministic_algorithms(was_deterministic)
    assert full.checkpoint.name == split.checkpoint.name == "iter_4.pth"
    a, b = load_run_checkpoint(full.checkpoint), load_run_checkpoint(split.checkpoint)
    assert any(k.startswith("generator.") for k in a["state_dict"])
    assert a["state_dict"].keys() == b["state_dict"].keys()
    differ = [k for k in a["state_dict"] if not torch.equal(a["state_dict"][k], b["state_dict"][k])]
    assert not differ, f"{len(differ)} tensors differ after resume, e.g. {differ[:5]}"
    assert torch.equal(a["bench_rng_state"]["torch"], b["bench_rng_state"]["torch"])
    assert torch.equal(a["bench_rng_state"]["python"]["state"], b["bench_rng_state"]["python"]["state"])
