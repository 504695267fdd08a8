"""``bench perf``: parameters, FLOPs, speed and memory of every method, of the attention modules and of the metrics.

What is measured (one JSON + one Markdown table per run, ``results/perf/<device>-<date>.{json,md}``):

* **methods** (per registered method and image size; 64 uses the ``smoke`` preset's model, every other size the
  ``paper`` preset's): parameters per sub-module (:func:`bench.catalog.parameter_breakdown`), FLOPs of one
  generator forward and of one train step (``torch.utils.flop_counter.FlopCounterMode``: matmul, conv, bmm and
  attention kernels; element-wise operations are not counted), inference time per image (``generate``), one full
  train step per image (``train_step`` with the ``OptimWrapperDict`` that ``MultiOptimWrapperConstructor`` builds
  from the method's ``optim_wrapper`` config, on a synthetic batch), peak memory, and the achieved FLOP/s as a
  fraction of the device's matrix-multiply peak measured in the same run (the roofline ratio). A row whose train
  step (else inference) ratio is below ``bottleneck_threshold`` (0.5) gets one extra warm call of the same step
  under ``torch.profiler`` (CPU, + CUDA on CUDA; same model, batch and optimiser wrappers): ``bottleneck`` holds the
  top operators by self time with their share of all operators' self time (``None`` for the other rows).
* **attention**: :class:`methods.swap.swap.SemanticWiseAttention` against
  :class:`methods.common.contextual_attention.ContextualAttention` *with the same settings* (patch 3, fuse 3,
  softmax scale 10, cosine queries, average-pool matching on the same ``match_rate`` grid, hole-only update, same
  chunk size) across feature sizes and class counts; SWAP's peak memory at the largest size for several chunk sizes
  against an a-priori estimate of its live tensors.
* **metrics**: throughput (images/s) of the pixel metrics (torch path vs skimage per image), LPIPS and the FID
  Inception features; from these and the forward times, the share the metric code adds to a 300-image evaluation.
* **loop check**: the number of ATen operators a forward dispatches must not grow with the number of pixels or
  classes (a Python loop over pixels, patches or classes would make it grow): counted for the attention modules
  (sizes × classes), the pixel metrics (image sizes) and each method's paper model (two image sizes).

Timing: warm-up, then repetitions until ``min_reps`` are done and ``budget_s`` has passed (at most ``max_reps``);
the median is reported with min and max. On CUDA every timed call is bracketed by ``torch.cuda.synchronize``.
The attention cases of one feature size are timed interleaved (CA, SWAP k=1, SWAP k=8, ... per repetition) so that
load changes on a shared machine hit all of them alike.

Memory: on CUDA ``torch.cuda.max_memory_allocated`` minus the allocation at the start. On the CPU torch's
allocations are plain ``malloc``s (invisible to ``tracemalloc``, and torch keeps no CPU allocator statistics), so the
peak is the resident-set high-water mark: free heap memory is handed back (``malloc_trim(0)``), ``VmHWM`` is reset by
writing ``5`` to ``/proc/self/clear_refs``, and the peak is ``VmHWM`` after the call minus ``VmRSS`` before it.
Where the reset is not permitted the process-lifetime peak (``ru_maxrss``) is reported and the entry says so.
"""
from __future__ import annotations

import ctypes
import datetime as _dt
import gc
import os
import platform
import resource
import statistics
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import torch

SCHEMA = "bench-perf/1"
DEFAULT_OUT = Path("results") / "perf"
# torch's intra-op thread count as the process started (an evaluation runs with it; run_perf pins its own)
DEFAULT_THREADS = torch.get_num_threads()
# SWAP generator widths of the paper config by feature side (64 at 256 px ... 256 at 16 px): attention channels
PAPER_ATTENTION_CHANNELS = {16: 256, 32: 256, 64: 256, 128: 128}
VGG_LOSS_METHODS_NOTE = ("VGG19 perceptual/style losses disabled for the train step (model.use_vgg_losses=False): "
                         "the ImageNet VGG19 file is not on this machine, so the step is cheaper than the real one")


@dataclass
class PerfSettings:
    """What ``run_perf`` measures; ``quick_settings()`` is the small selection the tests run."""

    methods: tuple | None = None            # None = every registered method
    device: str = "cpu"
    sizes: tuple = (64, 256)
    batch: int = 1
    dataset: str = "outdoor"                # only its num_classes (8) is used; nothing is read from disk
    warmup: int = 1                         # the first warm-up call also counts FLOPs / ATen ops
    min_reps: int = 3
    max_reps: int = 5
    budget_s: float = 3.0                   # stop adding repetitions beyond min_reps after this many seconds
    max_call_s: float = 10.0                # a first (FLOP-counting) call slower than this is the only one timed
    attention_sizes: tuple = (16, 32, 64, 128)
    attention_classes: tuple = (1, 8, 20)
    attention_batch: int = 1
    attention_chunk_sizes: tuple = (256, 1024, 4096)
    attention_reps: int = 5
    attention_channels: int | None = None   # None: the SWAP paper generator's width at that feature size
    metric_images: int = 16
    fid_images: int | None = None           # None: all metric_images (Inception at 299² dominates on a CPU)
    metric_size: int = 256
    metric_batch: int = 8
    matmul_n: int | None = None             # None: 2048 on CPU, 8192 on CUDA
    loop_check: bool = True
    threads: int | None = None              # torch intra-op threads (None: torch's default); recorded in the JSON
    bottleneck_threshold: float = 0.5       # rows below this roofline ratio get one extra call under torch.profiler
    bottleneck_top: int = 3                 # operators (by self time) recorded per profiled row
    quick: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def quick_settings(**overrides) -> PerfSettings:
    """Smoke size only, one repetition, two methods, attention at 16/32, metrics on 8 small images (tests)."""
    s = PerfSettings(methods=("gatedconv", "telea"), sizes=(64,), warmup=1, min_reps=1, max_reps=1, budget_s=0.0,
                     attention_sizes=(16, 32), attention_classes=(1, 8, 20), attention_chunk_sizes=(64, 1024),
                     attention_reps=1, attention_channels=32, metric_images=8, fid_images=2, metric_size=64,
                     metric_batch=8, matmul_n=512, loop_check=False, threads=1, quick=True)
    return replace(s, **overrides)


# ------------------------------------------------------------------------------------------------ timing
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def summarize(times: list[float]) -> dict:
    """Median, min, max (seconds) and the repetitions of a list of timings."""
    if not times:
        return {"median_s": None, "min_s": None, "max_s": None, "reps": 0, "times_s": []}
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "reps": len(times),
            "times_s": [round(t, 6) for t in times]}


def time_call(fn: Callable[[], object], device: torch.device, *, warmup: int = 1, min_reps: int = 3,
              max_reps: int = 5, budget_s: float = 3.0) -> dict:
    """Device-synchronised wall time of ``fn()``: ``warmup`` calls, then at least ``min_reps`` timed calls and more
    (up to ``max_reps``) while less than ``budget_s`` seconds have been spent timing."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max(1, max_reps):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
        if len(times) >= min_reps and time.perf_counter() - start >= budget_s:
            break
    return summarize(times)


def time_interleaved(fns: dict[str, Callable[[], object]], device: torch.device, reps: int,
                     warmup: int = 1) -> dict[str, dict]:
    """Time several callables round-robin (one call of each per repetition); a summary per name."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {k: [] for k in fns}
    for _ in range(max(1, reps)):
        for name, fn in fns.items():
            _sync(device)
            t0 = time.perf_counter()
            fn()
            _sync(device)
            times[name].append(time.perf_counter() - t0)
    return {k: summarize(v) for k, v in times.items()}


# ------------------------------------------------------------------------------------------------ memory
def _proc_status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _malloc_trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


M_MMAP_THRESHOLD = -3            # glibc mallopt parameter
MMAP_THRESHOLD_MEASURE = 64 * 1024
MMAP_THRESHOLD_AFTER = 32 * 2 ** 20   # glibc's upper bound of its dynamic threshold (its steady state)


def _set_mmap_threshold(nbytes: int) -> bool:
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, int(nbytes)))
    except (OSError, AttributeError):
        return False


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakMemory:
    """Context manager: peak memory (bytes) allocated while inside, see the module docstring for the method.

    After ``__exit__``: ``bytes`` and ``method`` (how it was measured).
    """

    def __init__(self, device: torch.device):
        self.device = torch.device(device)
        self.bytes: int | None = None
        self.method = ""

    def __enter__(self):
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
        else:
            _malloc_trim()
            # blocks >= 64 KiB are mmap-ed and unmapped on free while measuring: freed memory cannot linger in
            # the heap and be reused invisibly, so VmHWM follows the live allocations
            self._mmap = _set_mmap_threshold(MMAP_THRESHOLD_MEASURE)
            self._reset = _reset_hwm()
            self._base = (_proc_status_kb("VmRSS") or 0) * 1024
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.bytes = int(torch.cuda.max_memory_allocated(self.device) - self._base)
            self.method = "cuda max_memory_allocated - allocated at start"
        elif self._reset and _proc_status_kb("VmHWM") is not None:
            self.bytes = max(0, _proc_status_kb("VmHWM") * 1024 - self._base)
            self.method = ("rss delta: VmHWM (reset via /proc/self/clear_refs) - VmRSS at start, after malloc_trim"
                           + (", allocations >= 64 KiB mmap-ed while measuring" if self._mmap else ""))
        else:
            self.bytes = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
            self.method = "process-lifetime peak RSS (ru_maxrss): VmHWM reset not permitted, NOT a per-call peak"
        if self.device.type != "cuda" and self._mmap:
            _set_mmap_threshold(MMAP_THRESHOLD_AFTER)
        return False


# --------------------------------------------------------------------------------------- op / flop counting
class OpCounter(torch.utils._python_dispatch.TorchDispatchMode):
    """Counts ATen operator calls (a Python loop over pixels, patches or classes multiplies them)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


@contextmanager
def counting(flops: bool = True):
    """``with counting() as c:`` → ``c['flops']`` (FlopCounterMode total) and ``c['ops']`` (ATen calls)."""
    from torch.utils.flop_counter import FlopCounterMode

    res: dict = {"flops": None, "ops": None}
    ops = OpCounter()
    if flops:
        fc = FlopCounterMode(display=False)
        with fc, ops:
            yield res
        res["flops"] = int(fc.get_total_flops())
    else:
        with ops:
            yield res
    res["ops"] = ops.count


def profile_top_ops(fn: Callable[[], object], device: torch.device, top: int = 3) -> dict:
    """One call of ``fn`` under ``torch.profiler`` (CPU, + CUDA on a CUDA device); the ``top`` operators by self
    time (CUDA kernel self time on a CUDA device, CPU self time otherwise) with their share of the summed self
    time of all operators (self times do not overlap, so the shares of all operators add up to 100 %)."""
    from torch.profiler import ProfilerActivity, profile

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    _sync(device)
    t0 = time.perf_counter()
    with profile(activities=acts) as prof:
        fn()
        _sync(device)
    wall = time.perf_counter() - t0
    cuda = device.type == "cuda"

    def self_us(e) -> float:
        if cuda:
            return float(getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0) or 0)
        return float(e.self_cpu_time_total or 0)

    events = [e for e in prof.key_averages() if self_us(e) > 0]
    total = sum(self_us(e) for e in events)
    events.sort(key=self_us, reverse=True)
    ops = [{"name": e.key, "self_ms": self_us(e) / 1e3, "share": self_us(e) / total if total else None,
            "calls": int(e.count)} for e in events[:max(1, top)]]
    return {"time": "cuda self time" if cuda else "cpu self time", "total_self_ms": total / 1e3,
            "profiled_call_s": wall, "top": ops}


def _bottleneck_text(b: dict) -> str:
    return ", ".join(f"{o['name']} {100 * (o['share'] or 0):.0f} % ({o['self_ms']:.0f} ms)" for o in b["top"])


# ------------------------------------------------------------------------------------------ device / peak
def device_info(device: torch.device) -> dict:
    info = {"type": device.type, "torch": torch.__version__, "threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        info["cpu"] = names[0] if names else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    if device.type == "cuda":
        info["name"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
        info["tf32_matmul"] = torch.backends.cuda.matmul.allow_tf32
    else:
        info["name"] = info["cpu"]
    return info


def matmul_peak(device: torch.device, n: int, reps: int = 5) -> dict:
    """The device's measured fp32 matrix-multiply rate: best of ``reps`` n×n @ n×n products (2n³ FLOPs each)."""
    g = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(n, n, generator=g).to(device)
    b = torch.randn(n, n, generator=g).to(device)
    st = time_call(lambda: torch.mm(a, b), device, warmup=1, min_reps=reps, max_reps=reps, budget_s=0.0)
    flop = 2.0 * n ** 3
    return {"n": n, "dtype": "float32", "flop_per_matmul": flop, "peak_flops": flop / st["min_s"],
            "median_flops": flop / st["median_s"], "timing": st}


# ----------------------------------------------------------------------------------------- synthetic data
def synthetic_images(n: int, size: int, seed: int = 0) -> torch.Tensor:
    """N×3×H×W smooth random images in [-1, 1] (low-resolution noise, bilinear upsampling, tanh)."""
    g = torch.Generator().manual_seed(seed)
    low = torch.randn(n, 3, max(2, size // 16), max(2, size // 16), generator=g)
    hi = torch.nn.functional.interpolate(low, size=(size, size), mode="bilinear", align_corners=False)
    return torch.tanh(hi + 0.1 * torch.randn(n, 3, size, size, generator=g)).clamp(-1, 1)


def center_mask(n: int, size: int) -> torch.Tensor:
    """N×1×H×W, 1 = hole: the centred square of half the side (25 % of the pixels)."""
    m = torch.zeros(n, 1, size, size)
    m[..., size // 4:size - size // 4, size // 4:size - size // 4] = 1
    return m


def blocky_labels(n: int, size: int, num_classes: int, regions: int = 8, seed: int = 0) -> torch.Tensor:
    """N×H×W int64 class map of ``regions``×``regions`` constant blocks with random classes < ``num_classes``."""
    g = torch.Generator().manual_seed(seed)
    low = torch.randint(0, max(1, num_classes), (n, 1, regions, regions), generator=g).float()
    return torch.nn.functional.interpolate(low, size=(size, size), mode="nearest")[:, 0].long()


def synthetic_batch(batch: int, size: int, num_classes: int, device: torch.device, seed: int = 0) -> dict:
    """The collated sample dict of docs/ARCHITECTURE.md: img, mask, seg, meta."""
    return {"img": synthetic_images(batch, size, seed).to(device),
            "mask": center_mask(batch, size).to(device),
            "seg": blocky_labels(batch, size, max(1, num_classes), seed=seed).to(device),
            "meta": [{"file": f"synthetic-{i}", "dataset": "synthetic", "index": i, "mask_id": "center",
                      "hole_ratio": 0.25} for i in range(batch)]}


# ------------------------------------------------------------------------------------------------ methods
def _build(method: str, dataset: str, size: int, device: torch.device, extra: dict | None = None):
    from bench.runner import build_model, compose_config

    preset = "smoke" if size == 64 else "paper"
    opts = dict(extra or {})
    if size not in (64, 256):
        opts["img_size"] = size
    cfg = compose_config(method, dataset, preset, cfg_options=opts or None)
    return cfg, preset, build_model(cfg, device=str(device))


def _vgg_available() -> bool:
    try:
        from methods.common.weights_resolver import VGG19, resolve_weights

        resolve_weights(VGG19, None, download=False)
        return True
    except Exception:  # noqa: BLE001 - any failure means: not usable here
        return False


def build_optim_wrapper_dict(model, cfg):
    """The ``OptimWrapperDict`` of a method, built from ``cfg.optim_wrapper`` like the runner does."""
    from methods.common.optim import MultiOptimWrapperConstructor

    ow = cfg.optim_wrapper.to_dict() if hasattr(cfg.optim_wrapper, "to_dict") else dict(cfg.optim_wrapper)
    if ow.pop("constructor", None) == "MultiOptimWrapperConstructor":
        paramwise = ow.pop("paramwise_cfg", None)
        return MultiOptimWrapperConstructor(ow, paramwise)(model)
    from mmengine.optim import build_optim_wrapper

    return build_optim_wrapper(model, ow)


def _per_image(st: dict, batch: int) -> dict:
    out = dict(st)
    for k in ("median_s", "min_s", "max_s"):
        out[k.replace("_s", "_s_per_image")] = st[k] / batch if st.get(k) is not None else None
    return out


def _measure(fn, s: PerfSettings, device: torch.device, count: bool):
    """First call under the FLOP/op counters (the warm-up), then the timed repetitions with peak memory.

    When the first call takes longer than ``s.max_call_s``, exactly one more (warm) call is timed, with its peak
    memory, and reported with ``single_warm_call=True`` (the cold first call — allocator growth, oneDNN primitive
    creation, counters — overstated these steps by up to 1.7x). Otherwise the peak memory comes from one extra
    call after the timed ones."""
    _sync(device)
    t0 = time.perf_counter()
    if count:
        with counting(flops=True) as c:
            fn()
    else:
        fn()
        c = {"flops": None, "ops": None}
    _sync(device)
    first = time.perf_counter() - t0
    if first > s.max_call_s:
        with PeakMemory(device) as pm:
            _sync(device)
            t0 = time.perf_counter()
            fn()
            _sync(device)
            warm = time.perf_counter() - t0
        st = summarize([warm])
        st["single_warm_call"] = True
        st["first_call_s"] = first
        return c, st, pm
    st = time_call(fn, device, warmup=max(0, s.warmup - 1), min_reps=s.min_reps, max_reps=s.max_reps,
                   budget_s=s.budget_s)
    st["first_call_s"] = first
    with PeakMemory(device) as pm:  # one more call, outside the timed ones
        fn()
    return c, st, pm


def bench_method(method: str, size: int, s: PerfSettings, device: torch.device, peak_flops: float,
                 notes: list[str]) -> dict:
    """One row of the methods table (see the module docstring)."""
    from bench.catalog import parameter_breakdown
    from bench.runner import get_method

    from bench.runner import compose_config

    spec = get_method(method)
    extra = {}
    row: dict = {"method": method, "size": size, "batch": s.batch, "trainable": spec.trainable, "notes": []}
    probe_cfg = compose_config(method, s.dataset, "smoke" if size == 64 else "paper")
    if probe_cfg.model.get("use_vgg_losses") and not _vgg_available():
        extra["model.use_vgg_losses"] = False
        row["notes"].append(VGG_LOSS_METHODS_NOTE)
    cfg, preset, model = _build(method, s.dataset, size, device, extra)
    row.update(preset=preset, variant=cfg.variant, num_classes=int(cfg.get("num_classes") or 0),
               parameters=parameter_breakdown(model))
    batch = synthetic_batch(s.batch, size, row["num_classes"], device)
    seg = batch["seg"] if row["num_classes"] else None

    def forward():
        with torch.no_grad():
            return model.generate(batch["img"], batch["mask"], seg)

    # first call = warm-up + FLOP / op count (trainable = torch modules; telea is OpenCV)
    c, st, pm = _measure(forward, s, device, count=spec.trainable)
    row["gen_flops"], row["gen_aten_ops"] = c["flops"], c["ops"]
    row["infer"] = _per_image(st, s.batch)
    row["infer_peak_bytes"], row["memory_method"] = pm.bytes, pm.method
    row["infer_roofline"] = (row["gen_flops"] / st["median_s"] / peak_flops) if row["gen_flops"] else None

    row["train"], row["train_flops"], row["train_peak_bytes"], row["train_roofline"] = None, None, None, None
    if spec.trainable:
        owd = build_optim_wrapper_dict(model, cfg)
        row["optimizers"] = list(owd.keys())
        model.train()

        def step():
            return model.train_step(batch, owd)

        c, st, pm = _measure(step, s, device, count=True)
        row["train_flops"] = c["flops"]
        model.eval()
        row["train"] = _per_image(st, s.batch)
        row["train_peak_bytes"] = pm.bytes
        row["train_roofline"] = row["train_flops"] / st["median_s"] / peak_flops if row["train_flops"] else None
    # below the roofline threshold: one more (warm) call under torch.profiler names the operators that hold it back
    row["bottleneck"] = None
    thr = s.bottleneck_threshold
    phase = ("train" if row["train_roofline"] is not None and row["train_roofline"] < thr else
             "infer" if row["infer_roofline"] is not None and row["infer_roofline"] < thr else None)
    if phase == "train":
        model.train()
        row["bottleneck"] = dict(phase="train", roofline=row["train_roofline"],
                                 **profile_top_ops(step, device, s.bottleneck_top))
        model.eval()
    elif phase == "infer":
        row["bottleneck"] = dict(phase="infer", roofline=row["infer_roofline"],
                                 **profile_top_ops(forward, device, s.bottleneck_top))
    gc.collect()
    if s.loop_check and spec.trainable and preset == "paper" and size >= 128 and row["gen_aten_ops"]:
        row["loop_check"] = method_op_scaling(method, s.dataset, device, extra, size, row["gen_aten_ops"])
    return row


def method_op_scaling(method: str, dataset: str, device: torch.device, extra: dict, size: int,
                      ops_at_size: int) -> dict:
    """ATen ops of one paper-model forward at half the image size vs ``ops_at_size`` (counted at ``size``):
    equal counts = no loop over pixels or patches (a loop would multiply them by up to 4)."""
    half = size // 2
    cfg, _, model = _build(method, dataset, half, device, dict(extra, img_size=half))
    b = synthetic_batch(1, half, int(cfg.get("num_classes") or 0), device)
    with torch.no_grad(), counting(flops=False) as c:
        model.generate(b["img"], b["mask"], b["seg"] if cfg.get("num_classes") else None)
    del model
    sizes = (half, size)
    counts = {str(half): c["ops"], str(size): ops_at_size}
    vals = list(counts.values())
    ratio = vals[-1] / vals[0] if vals[0] else None
    pixels = (sizes[-1] / sizes[0]) ** 2
    return {"sizes": list(sizes), "aten_ops": counts, "ratio": ratio, "pixel_ratio": pixels,
            "ok": ratio is not None and ratio < 1 + 0.25 * (pixels - 1)}


# ---------------------------------------------------------------------------------------------- attention
def attention_modules(size: int, chunk_size: int = 4096, match_size: int = 32):
    """(SWAP, contextual attention) with the same patch settings at a ``size``×``size`` feature."""
    from methods.common.contextual_attention import ContextualAttention
    from methods.swap.swap import SemanticWiseAttention, match_rate

    swap = SemanticWiseAttention(softmax_scale=10.0, ksize=3, fuse=True, fuse_k=3, match_size=match_size,
                                 chunk_size=chunk_size, fallback="keep", semantic=True, downsample="avg")
    rate = match_rate(size, size, match_size)
    ca = ContextualAttention(ksize=3, stride=1, rate=rate, fuse_k=3, softmax_scale=10.0, fuse=True,
                             normalize_query=True, downsample="avg", update="hole", chunk_size=chunk_size)
    return swap, ca, rate


def attention_inputs(size: int, channels: int, num_classes: int, batch: int, device: torch.device, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, channels, size, size, generator=g).to(device)
    return x, center_mask(batch, size).to(device), blocky_labels(batch, size, num_classes, seed=seed).to(device)


def swap_memory_estimate(size: int, channels: int, batch: int, rate: int, chunk_size: int, ksize: int = 3,
                         fuse_k: int = 3) -> dict:
    """A-priori bytes of the live tensors of ``masked_patch_attention`` (fp32), written down before measuring.

    fixed: matching feature + keys and normalised keys (C·k²·N each), reconstruction patches, their output chunks
    and the concatenation (3 × C·(2r)²·N), padded input, fold sum/normalisation/output (4 × C·(H+r)²).
    chunk: per query chunk of nq positions (+ fuse halo rows) against N keys: scores, fused/padded scores, logits,
    weights and two temporaries (6 fp32) plus class and validity masks (3 bool) — 27 bytes per score.
    """
    hs = size // rate
    n = hs * hs
    rows = max(1, chunk_size // hs)
    nq = min(hs, rows + 2 * (fuse_k // 2)) * hs
    fixed = 4 * batch * (channels * n * (1 + 2 * ksize * ksize) + 3 * channels * (2 * rate) ** 2 * n
                         + 4 * channels * (size + rate) ** 2)
    chunk = batch * nq * n * (6 * 4 + 3)
    return {"fixed_bytes": fixed, "chunk_bytes": chunk, "estimate_bytes": fixed + chunk, "grid": hs,
            "queries_per_chunk": nq, "full_resolution_scores_bytes": 4 * batch * (size * size) ** 2}


def bench_attention(s: PerfSettings, device: torch.device) -> dict:
    """SWAP vs contextual attention timings and memory, SWAP memory vs chunk size, ATen op counts."""
    rows, mem_rows, ops = [], [], {}
    for size in s.attention_sizes:
        channels = s.attention_channels or PAPER_ATTENTION_CHANNELS.get(size, 64)
        swap, ca, rate = attention_modules(size)
        inputs = {k: attention_inputs(size, channels, k, s.attention_batch, device) for k in s.attention_classes}
        x, mask, _ = inputs[s.attention_classes[0]]
        fns = {"contextual": lambda x=x, mask=mask: ca(x, mask)}
        for k, (xk, mk, lk) in inputs.items():
            fns[f"swap_k{k}"] = lambda xk=xk, mk=mk, lk=lk: swap(xk, mk, lk)
        with torch.no_grad():
            times = time_interleaved(fns, device, reps=s.attention_reps, warmup=1)
            mem = {}
            for name, fn in fns.items():
                with PeakMemory(device) as pm:
                    fn()
                mem[name] = pm.bytes
            for name, fn in fns.items():
                with counting(flops=True) as c:
                    fn()
                ops[f"{name}@{size}"] = {"aten_ops": c["ops"], "flops": c["flops"]}
        for k in s.attention_classes:
            sw, cat = times[f"swap_k{k}"], times["contextual"]
            rows.append({"size": size, "channels": channels, "classes": k, "batch": s.attention_batch,
                         "rate": rate, "grid": size // rate, "chunk_size": 4096,
                         "contextual": cat, "swap": sw, "ratio": sw["median_s"] / cat["median_s"],
                         "contextual_peak_bytes": mem["contextual"], "swap_peak_bytes": mem[f"swap_k{k}"]})
    # memory vs chunk size at the largest feature size, most classes
    size, k = max(s.attention_sizes), max(s.attention_classes)
    channels = s.attention_channels or PAPER_ATTENTION_CHANNELS.get(size, 64)
    x, mask, lab = attention_inputs(size, channels, k, s.attention_batch, device)
    for chunk in s.attention_chunk_sizes:
        swap, _, rate = attention_modules(size, chunk_size=chunk)
        with torch.no_grad():
            swap(x, mask, lab)
            with PeakMemory(device) as pm:
                swap(x, mask, lab)
        est = swap_memory_estimate(size, channels, s.attention_batch, rate, chunk)
        mem_rows.append({"size": size, "channels": channels, "classes": k, "chunk_size": chunk,
                         "peak_bytes": pm.bytes, "memory_method": pm.method, **est,
                         "within_estimate": pm.bytes is not None and pm.bytes <= 1.1 * est["estimate_bytes"]})
    # loop check: ops must not grow with classes or feature size
    loop = {}
    for size in s.attention_sizes:
        swap_ops = [ops[f"swap_k{k}@{size}"]["aten_ops"] for k in s.attention_classes]
        loop[str(size)] = {"contextual": ops[f"contextual@{size}"]["aten_ops"],
                           **{f"swap_k{k}": v for k, v in zip(s.attention_classes, swap_ops)}}
    all_swap = [v for d in loop.values() for kk, v in d.items() if kk.startswith("swap")]
    return {"rows": rows, "memory_vs_chunk": mem_rows, "ops": ops,
            "loop_check": {"aten_ops": loop, "ok": max(all_swap) <= 1.5 * min(all_swap)}}


# ------------------------------------------------------------------------------------------------ metrics
def bench_metrics(s: PerfSettings, device: torch.device, notes: list[str]) -> dict:
    """Images/s of the pixel metrics (torch, skimage), LPIPS and FID features; ATen ops of the pixel path."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    from bench.metrics import inception_features, lpips_distance, pixel_values, psnr_ssim, to_uint8
    from bench.metrics import weights as W
    from bench.metrics.fid import get_inception, new_inception_module
    from bench.metrics.perceptual import get_lpips

    n, size, bs = s.metric_images, s.metric_size, s.metric_batch
    gt = synthetic_images(n, size, seed=1).to(device)
    raw = synthetic_images(n, size, seed=2).to(device)
    mask = center_mask(n, size).to(device)
    pred = raw * mask + gt * (1 - mask)      # the composite the evaluation scores (protocol 'paper')
    batches = [slice(i, min(n, i + bs)) for i in range(0, n, bs)]
    reps = dict(warmup=0, min_reps=min(2, s.min_reps), max_reps=s.max_reps, budget_s=s.budget_s)
    out: dict = {"images": n, "size": size, "batch": bs, "rows": []}

    def add(name, fn, per_call_images, note=""):
        st = time_call(fn, device, **reps)
        out["rows"].append({"name": name, "images_per_s": per_call_images / st["median_s"],
                            "images_per_s_min": per_call_images / st["max_s"],
                            "images_per_s_max": per_call_images / st["min_s"], "timing": st, "note": note})

    def pixel_torch():
        for b in batches:
            pixel_values(pred[b], gt[b], mask[b], "paper")

    pixel_values(pred[:1], gt[:1], mask[:1], "paper")  # warm-ups: one image
    add("pixel (PSNR+SSIM+L1+MAE), torch, batched", pixel_torch, n,
        f"bench.metrics.pixel_values on batches of {bs} (image by image inside on the CPU), protocol 'paper' "
        "(float32), composited outputs")

    # PSNR + SSIM alone, on uint8 levels, against skimage on the same arrays (issue: >= 10x per image)
    g_lv, c_lv, r_lv = (to_uint8(t).float() for t in (gt, pred, raw))

    # what pixel_values does for PSNR and SSIM: image by image on the CPU (cache-resident), the batch elsewhere
    pieces = [slice(i, i + 1) for i in range(n)] if device.type == "cpu" else batches

    def psnr_ssim_torch(p_lv):
        def run():
            for b in pieces:
                psnr_ssim(p_lv[b], g_lv[b], 255)   # Gaussian 11, float32: the 'paper' protocol
        return run

    a8 = to_uint8(pred).permute(0, 2, 3, 1).cpu().numpy()
    b8 = to_uint8(gt).permute(0, 2, 3, 1).cpu().numpy()

    def pixel_skimage():
        for i in range(n):  # the reference implementation is per image by design
            peak_signal_noise_ratio(b8[i], a8[i], data_range=255)
            structural_similarity(b8[i], a8[i], gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                  data_range=255, channel_axis=-1)

    # timed round-robin (torch composite, torch raw, skimage per repetition): the throughput of this shared
    # machine drifts by tens of percent over minutes, so each ratio compares calls made seconds apart
    contenders = {"composite": psnr_ssim_torch(c_lv), "raw": psnr_ssim_torch(r_lv), "skimage": pixel_skimage}
    notes_ps = {"composite": "bench.metrics psnr+ssim (Gaussian 11, float32), composited outputs: centre hole, "
                             "known pixels = GT",
                "raw": "the same on raw outputs that differ from the GT everywhere (nothing to skip)",
                "skimage": "skimage.metrics on the composites, CPU, one image at a time (its cost does not depend "
                           "on the content)"}
    names_ps = {"composite": "PSNR+SSIM, torch, composite", "raw": "PSNR+SSIM, torch, raw",
                "skimage": "PSNR+SSIM, skimage, per image"}
    thread_counts = [torch.get_num_threads()]
    if device.type == "cpu" and DEFAULT_THREADS > thread_counts[0]:
        thread_counts.append(DEFAULT_THREADS)     # how an evaluation runs: torch's default thread count
    out["psnr_ssim_vs_skimage"] = []
    threads_now = torch.get_num_threads()
    try:
        for t in thread_counts:
            torch.set_num_threads(t)
            tim = time_interleaved(contenders, device, reps=max(3, s.max_reps + 2) if not s.quick else 1)
            suffix = "" if t == thread_counts[0] else f", {t} threads"
            for key, st in tim.items():
                out["rows"].append({"name": names_ps[key] + suffix, "images_per_s": n / st["median_s"],
                                    "images_per_s_min": n / st["max_s"], "images_per_s_max": n / st["min_s"],
                                    "timing": st, "note": notes_ps[key] + (f" (torch on {t} threads; skimage "
                                                                           "uses one)" if suffix else "")})
            pair = {"threads": t}
            for key in ("composite", "raw"):
                ratios = [sk / tc for sk, tc in zip(tim["skimage"]["times_s"], tim[key]["times_s"])]
                pair[key] = {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}
            out["psnr_ssim_vs_skimage"].append(pair)
    finally:
        torch.set_num_threads(threads_now)

    res = W.resolve_lpips_backbone("alex", allow_download=False)
    if res.found is None:
        lp = get_lpips("alex", None, device, random_seed=0)
        lp_note = "RANDOM AlexNet trunk (ImageNet weights missing): same network and cost, values are not LPIPS"
        notes.append("LPIPS timed with a randomly initialised AlexNet trunk (weights file missing); "
                     "the cost is that of the real network")
    else:
        lp = get_lpips("alex", res.found, device)
        lp_note = f"AlexNet trunk from {res.found}"

    def lpips_all():
        for b in batches:
            lpips_distance(lp, pred[b], gt[b])

    lpips_distance(lp, pred[:1], gt[:1])
    add("LPIPS (alex)", lpips_all, n, lp_note)

    res = W.resolve_fid_weights(allow_download=False)
    if res.found is not None:
        inc = get_inception(res.found, device)
        inc_note = f"torch-fidelity Inception, weights {res.found}"
    else:
        inc = new_inception_module(None).to(device)
        inc_note = "untrained Inception (weights missing): same network and cost"
        notes.append("FID features timed with an untrained Inception (weights file missing)")
    nf = min(n, s.fid_images or n)
    real8, fake8 = to_uint8(gt[:nf]), to_uint8(pred[:nf])
    fid_batches = [slice(i, min(nf, i + bs)) for i in range(0, nf, bs)]

    def fid_all():
        for b in fid_batches:  # FIDKIDMetric extracts real and fake features of every batch
            inception_features(torch.cat([real8[b], fake8[b]]), inc)

    inception_features(real8[:1], inc)
    add("FID/KID Inception features (real+fake per image)", fid_all, nf,
        inc_note + f"; 2 forwards at 299² per image; {nf} images")

    # loop check of the pixel metrics: ATen ops per batch must not grow with the image size
    small = max(16, size // 4)
    counts = {}
    for sz in (small, size):
        p, g_, m = synthetic_images(2, sz, 3).to(device), synthetic_images(2, sz, 4).to(device), center_mask(2, sz)
        with counting(flops=False) as c:
            pixel_values(p, g_, m.to(device), "paper")
        counts[str(sz)] = c["ops"]
    out["loop_check"] = {"aten_ops_per_batch_of_2": counts,
                         "ok": counts[str(size)] <= 1.25 * counts[str(small)],
                         "note": "on the CPU SSIM runs image by image (each its own box of differing pixels, "
                                 "bench/metrics/pixel.py differing_boxes): ops grow with images, not pixels"}
    return out


def evaluation_overhead(methods: list[dict], metrics: dict, images: int = 300) -> list[dict]:
    """Seconds the metric code adds to an ``images``-image evaluation, relative to the method's forwards.

    An estimate from measured throughputs: forward s/image (at the method's batch) × images vs
    Σ metric s/image × images (pixel torch path + LPIPS + FID features of real and fake). ``overhead_real_cached``:
    the same when the ground-truth Inception features are already cached (``FIDKIDMetric`` keeps them per process,
    and on disk, so every evaluation after a dataset's first pays only the fake half)."""
    by = {r["name"]: r for r in metrics["rows"]}
    names = [k for k in by if not k.startswith("PSNR+SSIM")]   # those rows time a part of the pixel row
    metric_s = sum(1.0 / by[k]["images_per_s"] for k in names)
    fid_s = sum(1.0 / by[k]["images_per_s"] for k in names if k.startswith("FID"))
    out = []
    for r in methods:
        if r["size"] != metrics["size"] or not r.get("infer") or r["infer"]["median_s_per_image"] is None:
            continue
        fwd = r["infer"]["median_s_per_image"]
        out.append({"method": r["method"], "size": r["size"], "network": bool(r.get("trainable")),
                    "images": images, "forward_s": fwd * images,
                    "metrics_s": metric_s * images, "overhead": metric_s / fwd,
                    "overhead_real_cached": (metric_s - fid_s / 2) / fwd,
                    "metric_parts": {k: images / by[k]["images_per_s"] for k in names},
                    "met": metric_s / fwd <= 0.25})
    return out


# ------------------------------------------------------------------------------------------------ targets
def evaluate_targets(doc: dict) -> list[dict]:
    out = []
    att = doc.get("attention") or {}
    rows = [r for r in att.get("rows", []) if r["classes"] in (8, 20)]
    if rows:
        worst = max(rows, key=lambda r: r["ratio"])
        out.append({"target": "SWAP <= 1.25x contextual attention (8 and 20 classes, same settings)",
                    "measured": f"worst {worst['ratio']:.2f}x at {worst['size']}² / {worst['classes']} classes; "
                                + ", ".join(f"{r['size']}/{r['classes']}: {r['ratio']:.2f}" for r in rows),
                    "met": all(r["ratio"] <= 1.25 for r in rows)})
    mem = att.get("memory_vs_chunk") or []
    if mem:
        out.append({"target": f"SWAP peak memory at {mem[0]['size']}² within the a-priori estimate of its live "
                              f"tensors (+10 %; bounded by chunk size and feature size)",
                    "measured": "; ".join(f"chunk {m['chunk_size']}: {_mib(m['peak_bytes'])} "
                                          f"(estimate {_mib(m['estimate_bytes'])})" for m in mem),
                    "met": all(m["within_estimate"] for m in mem)})
        lo, hi = mem[0], mem[-1]
        if hi["chunk_bytes"] > lo["chunk_bytes"] and lo["peak_bytes"] is not None and hi["peak_bytes"] is not None:
            grown, est = hi["peak_bytes"] - lo["peak_bytes"], hi["chunk_bytes"] - lo["chunk_bytes"]
            out.append({"target": "SWAP chunk-dependent memory (peak growth from the smallest to the largest chunk) "
                                  "<= 1.5x the estimated growth of the score tensors",
                        "measured": f"{_mib(grown)} for {hi['queries_per_chunk'] - lo['queries_per_chunk']} more "
                                    f"queries per chunk (estimate {_mib(est)}); chunk-independent part "
                                    f"{_mib(lo['peak_bytes'] - lo['chunk_bytes'])}",
                        "met": grown <= 1.5 * est})
    checks = []
    if att.get("loop_check"):
        checks.append(("attention", att["loop_check"]["ok"]))
    if (doc.get("metrics") or {}).get("loop_check"):
        checks.append(("pixel metrics", doc["metrics"]["loop_check"]["ok"]))
    for r in doc.get("methods", []):
        if r.get("loop_check"):
            checks.append((r["method"], r["loop_check"]["ok"]))
    if checks:
        out.append({"target": "no Python loops over pixels, patches or classes "
                              "(ATen op count constant in size/classes)",
                    "measured": ", ".join(f"{n}: {'ok' if ok else 'GROWS'}" for n, ok in checks),
                    "met": all(ok for _, ok in checks)})
    pairs = (doc.get("metrics") or {}).get("psnr_ssim_vs_skimage") or []
    if pairs:
        first = pairs[0]

        def fmt(p, key):
            r = p[key]
            return f"{r['median']:.1f}x ({r['min']:.1f}-{r['max']:.1f})"
        parts = [f"{p['threads']} thread{'s' if p['threads'] > 1 else ''}: {fmt(p, 'composite')} on composites "
                 f"(centre hole), {fmt(p, 'raw')} on raw outputs that differ everywhere" for p in pairs]
        out.append({"target": "torch PSNR+SSIM >= 10x skimage per image (composited outputs, as evaluated; "
                              "median of round-robin pairs, per core)",
                    "measured": "; ".join(parts), "met": first["composite"]["median"] >= 10})
    ev = doc.get("evaluation_overhead") or []
    if ev:
        trained = [e for e in ev if e["network"]]       # telea, a classical fill, has no forward to compare with
        out.append({"target": "metrics add <= 25 % to a 300-image evaluation of a network (estimate from "
                              "throughputs; GT Inception features on disk after a dataset's first evaluation)",
                    "measured": ", ".join(f"{e['method']}: {100 * e['overhead_real_cached']:.0f} % "
                                          f"(first: {100 * e['overhead']:.0f} %)" for e in trained),
                    "met": bool(trained) and all(e["overhead_real_cached"] <= 0.25 for e in trained)})
    return out


# ----------------------------------------------------------------------------------------------- markdown
def _mib(b) -> str:
    return "–" if b is None else f"{b / 2 ** 20:.1f} MiB"


def _ms(st: dict | None, key: str = "s_per_image") -> str:
    if not st or st.get(f"median_{key}") is None:
        return "–"
    if st.get("single_warm_call"):
        return f"{1e3 * st[f'median_{key}']:.0f} †"
    return (f"{1e3 * st[f'median_{key}']:.1f} ({1e3 * st[f'min_{key}']:.1f}–{1e3 * st[f'max_{key}']:.1f})")


def _params(p: dict) -> str:
    return ", ".join(f"{k} {v / 1e6:.2f}M" for k, v in p.items() if k != "total") or "0"


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def to_markdown(doc: dict) -> str:
    d = doc["device"]
    pk = doc["matmul_peak"]
    lines = [f"### `bench perf` on {d['type']}: {d['name']} ({doc['created']})", "",
             f"torch {d['torch']}, {d['threads']} threads, {d['cpu_count']} logical CPUs; load average "
             f"(1/5/15 min) {'/'.join(f'{x:.2f}' for x in doc['load_average']['start'])} at start, "
             f"{'/'.join(f'{x:.2f}' for x in doc['load_average']['end'])} at end; measured fp32 matmul peak "
             f"{pk['peak_flops'] / 1e9:.1f} GFLOP/s ({pk['n']}² @ {pk['n']}², best of the run's start "
             f"{pk.get('at_start_flops', pk['peak_flops']) / 1e9:.1f} and end "
             f"{(pk.get('at_end') or pk)['peak_flops'] / 1e9:.1f}). "
             f"Times: median (min–max) of the repetitions; {'quick selection; ' if doc['settings']['quick'] else ''}"
             f"batch {doc['settings']['batch']}.", ""]
    if doc.get("methods"):
        lines += ["| method | size (preset) | parameters | GFLOPs / fwd | inference ms/img | train step ms/img "
                  "| peak mem infer / train | % of matmul peak infer / train |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in doc["methods"]:
            fl = "–" if not r.get("gen_flops") else f"{r['gen_flops'] / 1e9:.2f}"
            lines.append(f"| {r['method']} | {r['size']} ({r['preset']}) | {_params(r['parameters'])} | {fl} | "
                         f"{_ms(r['infer'])} | {_ms(r['train'])} | {_mib(r['infer_peak_bytes'])} / "
                         f"{_mib(r['train_peak_bytes'])} | {_pct(r['infer_roofline'])} / {_pct(r['train_roofline'])} |")
        lines.append("")
        held = [r for r in doc["methods"] if r.get("bottleneck")]
        if held:
            thr = doc["settings"].get("bottleneck_threshold", 0.5)
            lines += [f"Held back by (rows below {100 * thr:.0f} % of the matmul peak; one extra warm call under "
                      f"`torch.profiler`, top {len(held[0]['bottleneck']['top'])} operators by "
                      f"{held[0]['bottleneck']['time']}, share of all operators' self time):", ""]
            for r in held:
                b = r["bottleneck"]
                what = "train step" if b["phase"] == "train" else "inference"
                lines.append(f"- {r['method']} @ {r['size']}, {what} ({_pct(b['roofline'])}): {_bottleneck_text(b)}")
            lines.append("")
    att = doc.get("attention")
    if att:
        lines += ["| feature | C | grid (rate) | classes | contextual ms | SWAP ms | SWAP / CA | peak mem CA / SWAP |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in att["rows"]:
            lines.append(f"| {r['size']}² | {r['channels']} | {r['grid']}² ({r['rate']}) | {r['classes']} | "
                         f"{_ms(r['contextual'], 's')} | {_ms(r['swap'], 's')} | {r['ratio']:.2f} | "
                         f"{_mib(r['contextual_peak_bytes'])} / {_mib(r['swap_peak_bytes'])} |")
        lines += ["", "| SWAP at | chunk size | queries / chunk | peak memory | a-priori estimate "
                  "| full-res N² scores |",
                  "|---|---|---|---|---|---|"]
        for m in att["memory_vs_chunk"]:
            lines.append(f"| {m['size']}², C {m['channels']}, {m['classes']} classes | {m['chunk_size']} | "
                         f"{m['queries_per_chunk']} | {_mib(m['peak_bytes'])} | {_mib(m['estimate_bytes'])} | "
                         f"{_mib(m['full_resolution_scores_bytes'])} |")
        lines.append("")
    met = doc.get("metrics")
    if met:
        lines += [f"| metric ({met['images']} images {met['size']}², batch {met['batch']}) | images/s "
                  "(min–max) | note |", "|---|---|---|"]
        for r in met["rows"]:
            lines.append(f"| {r['name']} | {r['images_per_s']:.1f} ({r['images_per_s_min']:.1f}–"
                         f"{r['images_per_s_max']:.1f}) | {r['note']} |")
        lines.append("")
    if doc.get("evaluation_overhead"):
        lines += ["| 300-image evaluation (estimate) | forwards s | metrics s | metrics / forwards "
                  "| same, GT Inception features cached |", "|---|---|---|---|---|"]
        for e in doc["evaluation_overhead"]:
            cached = e.get("overhead_real_cached")
            lines.append(f"| {e['method']} @ {e['size']}² | {e['forward_s']:.1f} | {e['metrics_s']:.1f} | "
                         f"{100 * e['overhead']:.0f} % | {'–' if cached is None else f'{100 * cached:.0f} %'} |")
        lines.append("")
    if doc.get("targets"):
        lines += ["| target | measured | met |", "|---|---|---|"]
        for t in doc["targets"]:
            lines.append(f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |")
        lines.append("")
    if any((r.get("infer") or {}).get("single_warm_call") or (r.get("train") or {}).get("single_warm_call")
           for r in doc.get("methods", [])):
        lines += [f"† one warm call, timed after the cold first one (under the FLOP counter) took longer than "
                  f"{doc['settings']['max_call_s']:.0f} s", ""]
    if doc.get("notes"):
        lines += [f"- {n}" for n in doc["notes"]] + [""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------- run
def output_paths(out_dir: str | Path, device: torch.device, date: str, quick: bool) -> tuple[Path, Path]:
    stem = f"{device.type}-{date}" + ("-quick" if quick else "")
    out_dir = Path(out_dir)
    return out_dir / f"{stem}.json", out_dir / f"{stem}.md"


def run_perf(settings: PerfSettings | None = None, out_dir: str | Path = DEFAULT_OUT,
             echo: Callable[[str], None] = print) -> tuple[dict, Path, Path]:
    """Run the benchmark, write ``<out>/<device>-<date>[-quick].{json,md}`` atomically; return (doc, paths)."""
    s = settings or PerfSettings()
    threads_before = torch.get_num_threads()
    if s.threads:
        torch.set_num_threads(int(s.threads))
    try:
        return _run_perf(s, out_dir, echo)
    finally:
        torch.set_num_threads(threads_before)


def _run_perf(s: PerfSettings, out_dir, echo) -> tuple[dict, Path, Path]:
    from bench.io import atomic_write_json, atomic_write_text
    from bench.registry import METHODS, register_all_modules

    device = torch.device(s.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but torch sees no CUDA device here")
    register_all_modules()
    methods = list(s.methods) if s.methods else sorted(METHODS)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; registered: {', '.join(sorted(METHODS))}")
    t_start = time.perf_counter()
    now = _dt.datetime.now()
    notes = ["numbers are noisy: this machine's cores are shared with other jobs (see the load average)"
             if device.type == "cpu" else "CUDA timings are synchronised (torch.cuda.synchronize) around every call"]
    doc: dict = {"schema": SCHEMA, "created": now.isoformat(timespec="seconds"), "device": device_info(device),
                 "settings": s.as_dict(), "load_average": {"start": list(os.getloadavg())}}
    n = s.matmul_n or (8192 if device.type == "cuda" else 2048)
    echo(f"matmul peak ({n}²) ...")
    doc["matmul_peak"] = matmul_peak(device, n)
    peak = doc["matmul_peak"]["peak_flops"]
    echo(f"  {peak / 1e9:.1f} GFLOP/s")
    if s.metric_images:
        # first: in a process that has run the paper models (heap grown to GBs) the same pixel-metric calls
        # measured 15-25 % slower on this VM, skimage's not; metric code should be timed as a fresh evaluation sees it
        echo("metrics ...")
        doc["metrics"] = bench_metrics(s, device, notes)
    doc["methods"] = []
    for size in s.sizes:
        for m in methods:
            echo(f"method {m} @ {size} ...")
            t0 = time.perf_counter()
            try:
                row = bench_method(m, size, s, device, peak, notes)
            except Exception as e:  # noqa: BLE001 - one broken method must not hide the others
                row = {"method": m, "size": size, "error": f"{type(e).__name__}: {e}"}
                notes.append(f"{m} @ {size}: {row['error']}")
            echo(f"  done in {time.perf_counter() - t0:.1f} s")
            if "error" not in row:
                doc["methods"].append(row)
            gc.collect()
    vgg_rows = [r["method"] for r in doc["methods"] if VGG_LOSS_METHODS_NOTE in r.get("notes", [])]
    if vgg_rows:
        notes.append(f"{', '.join(sorted(set(vgg_rows)))}: {VGG_LOSS_METHODS_NOTE}")
    if s.attention_sizes:
        echo("attention modules ...")
        doc["attention"] = bench_attention(s, device)
    if s.metric_images:
        doc["evaluation_overhead"] = evaluation_overhead(doc["methods"], doc["metrics"])
        if doc["evaluation_overhead"]:
            notes.append("evaluation overhead = (pixel torch + LPIPS + FID features) s/image ÷ forward s/image, "
                         "from the throughputs above (an estimate, not a timed evaluation)")
    if device.type == "cpu":
        mm = next((r["memory_method"] for r in doc["methods"] if r.get("memory_method")), None)
        notes.append(f"CPU peak memory: {mm or PeakMemory.__doc__.splitlines()[0]}; torch CPU tensors are not "
                     "visible to tracemalloc")
    notes.append("FLOPs: torch.utils.flop_counter.FlopCounterMode (matmul/conv/bmm/attention only); roofline = "
                 "counted FLOPs / median time / measured matmul peak (best of the measurements at the start and "
                 "the end of the run)")
    end_peak = matmul_peak(device, n)
    doc["matmul_peak"]["at_end"] = {"peak_flops": end_peak["peak_flops"], "timing": end_peak["timing"]}
    doc["matmul_peak"]["at_start_flops"] = doc["matmul_peak"]["peak_flops"]
    if end_peak["peak_flops"] > peak:  # the best of the run's two measurements (load changes during a run)
        doc["matmul_peak"]["peak_flops"] = end_peak["peak_flops"]
        scale = peak / end_peak["peak_flops"]
        for r in doc["methods"]:
            for k in ("infer_roofline", "train_roofline"):
                if r.get(k) is not None:
                    r[k] *= scale
            if r.get("bottleneck"):
                r["bottleneck"]["roofline"] *= scale
    thr = s.bottleneck_threshold
    late = [f"{r['method']} @ {r['size']}" for r in doc["methods"] if not r.get("bottleneck") and any(
        r.get(k) is not None and r[k] < thr for k in ("infer_roofline", "train_roofline"))]
    if late:
        notes.append(f"{', '.join(late)}: below {100 * thr:.0f} % of the matmul peak only after the end-of-run peak "
                     "measurement raised it, so not profiled (the decision uses the start-of-run peak)")
    doc["load_average"]["end"] = list(os.getloadavg())
    doc["wall_s"] = time.perf_counter() - t_start
    doc["notes"] = notes
    doc["targets"] = evaluate_targets(doc)
    json_path, md_path = output_paths(out_dir, device, now.strftime("%Y-%m-%d"), s.quick)
    atomic_write_json(json_path, doc)
    atomic_write_text(md_path, to_markdown(doc))
    return doc, json_path, md_path
