"""ONNX Runtime for the text towers (CLIP text, MiniLM): what a shopper's words are encoded on.

``TEXT_RUNTIME``: ``auto`` (ONNX Runtime where it runs the tower's precision: a CPU, fp32 or
int8; torch otherwise), ``onnx`` (the same, said explicitly) or ``torch`` (eager torch under
``inference_mode``). One runtime serves a tower's queries and batches alike.

Why: on the 2-core AVX2 EPYC (bench/query_runtime.py, one query at a time, one thread) the
ViT-B/32-size CLIP text tower took ~47 ms eager fp32, ~28 ms on ONNX Runtime fp32 and ~16 ms on
ONNX Runtime int8 (min cosine to eager fp32 0.9989); torch's own int8 and torch.compile were
slower than ONNX Runtime's (figures in bench/README.md).

The tower is exported once per model revision (``torch.onnx.export``, the torch.export-based
exporter; no TorchScript) and kept in ``ONNX_CACHE_DIR`` under a name that carries the model
key, the mode and a digest of the revision and the torch / onnxruntime versions, so another
model, revision or library version exports afresh. int8 is ONNX Runtime's dynamic quantisation
of the exported graph's MatMul weights. Whatever runs is checked at load like every precision
(search/encoding/precision.py): the calibration phrases through it against the torch fp32
model, int8 first when chosen, then fp32; when ONNX Runtime is missing, the export fails or
even fp32 disagrees, the tower runs on torch as before and the log says why.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from search.encoding import precision
from search.encoding.precision import PrecisionReport

logger = logging.getLogger(__name__)

RUNTIMES = ("auto", "onnx", "torch")
ONNX_MODES = ("fp32", "int8")  # bf16 on ONNX Runtime's CPU provider is not faster: torch runs it
EXPORT_VERSION = "1"  # part of the cache key: bump when the export below changes
ONNX_RUNTIME = "onnxruntime"
TORCH = "torch"


class RuntimeUnavailable(ValueError):
    """An unknown TEXT_RUNTIME."""


def wanted(setting: str, *, device: str, mode: str) -> bool:
    """Whether a tower in ``mode`` on ``device`` should try ONNX Runtime."""
    runtime = (setting or TORCH).strip().lower()
    if runtime not in RUNTIMES:
        raise RuntimeUnavailable(f"unknown runtime {setting!r}: use one of {', '.join(RUNTIMES)}")
    return runtime != TORCH and device == "cpu" and mode in ONNX_MODES


class OnnxTower:
    """An ONNX Runtime session turning tokenised texts into (batch, dim) float32 embeddings.

    ``InferenceSession.run`` may be called from several threads at once (gunicorn threads)."""

    def __init__(self, path: Path, *, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = max(0, threads)  # 0: ONNX Runtime's own choice
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: the CPU provider's notices are noise
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = tuple(item.name for item in self._session.get_inputs())
        self.path = path

    def __call__(self, features: Mapping[str, Any]) -> np.ndarray:
        feed = {name: _int64(features[name]) for name in self.input_names}
        return np.asarray(self._session.run(None, feed)[0], dtype=np.float32)


def _int64(value: Any) -> np.ndarray:
    array = value.numpy() if hasattr(value, "numpy") else value
    return np.ascontiguousarray(array, dtype=np.int64)


def cache_name(*, tower: str, model_key: str, revision: str, mode: str) -> str:
    import onnxruntime as ort
    import torch

    digest = hashlib.sha256(
        "|".join((revision, torch.__version__, ort.__version__, EXPORT_VERSION)).encode()
    ).hexdigest()[:12]
    return f"{tower}-{model_key}-{digest}-{mode}.onnx"


@contextlib.contextmanager
def _quiet_export() -> Iterator[None]:
    """The exporter and the quantiser log every graph pass at INFO (hundreds of lines, the
    quantiser on the root logger): keep them out of the service's log while they run."""
    root = logging.getLogger()
    noisy = [logging.getLogger(name) for name in ("onnx_ir", "onnxscript", "torch.onnx")]
    levels = [item.level for item in noisy]

    def drop_quantiser_notes(record: logging.LogRecord) -> bool:
        # ... including its advice to pre-process the graph, which is for static quantisation
        return "onnxruntime" not in record.pathname or "quantization" not in record.pathname

    root.addFilter(drop_quantiser_notes)
    for item in noisy:
        item.setLevel(logging.ERROR)  # "torchvision is not installed. Skipping ..." too
    try:
        with contextlib.redirect_stdout(None), _warnings_ignored():
            yield
    finally:
        root.removeFilter(drop_quantiser_notes)
        for item, level in zip(noisy, levels, strict=True):
            item.setLevel(level)


@contextlib.contextmanager
def _warnings_ignored() -> Iterator[None]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _export_fp32(module: Any, example: Mapping[str, Any], path: Path) -> None:
    import torch

    names = list(example)
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length")
    with torch.inference_mode(False), torch.no_grad():
        program = torch.onnx.export(
            module.eval(),
            args=(),
            kwargs=dict(example),
            dynamo=True,
            input_names=names,
            output_names=["tower_output"],  # a name no model uses inside
            dynamic_shapes={name: {0: batch, 1: length} for name in names},
            verbose=False,
        )
    assert program is not None
    program.save(str(path))


def _quantise_int8(source: Path, path: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(path), weight_type=QuantType.QInt8)


def _atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Write ``path`` through a temporary file beside it: two processes exporting at once (a
    web and a worker process starting together) never see half a file."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".onnx")
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return path


def export(
    module: Any,
    example: Mapping[str, Any],
    *,
    mode: str,
    tower: str,
    model_key: str,
    revision: str,
    cache_dir: Path,
) -> Path:
    """The tower's ONNX file in ``mode`` (fp32 or int8), from the cache or exported now.

    ``module(**example)`` returns the (batch, dim) embeddings; ``example`` holds a batch of at
    least two texts of different lengths, so the export keeps both dimensions dynamic."""
    fp32 = cache_dir / cache_name(tower=tower, model_key=model_key, revision=revision, mode="fp32")
    with _quiet_export():
        _atomically(fp32, lambda path: _export_fp32(module, example, path))
        if mode == "fp32":
            return fp32
        int8 = cache_dir / cache_name(
            tower=tower, model_key=model_key, revision=revision, mode="int8"
        )
        return _atomically(int8, lambda path: _quantise_int8(fp32, path))


@contextlib.contextmanager
def export_dir(configured: Path | None) -> Iterator[Path]:
    """``configured`` (ONNX_CACHE_DIR), or a temporary directory for one load: the session
    holds the graph in memory once it is built."""
    if configured is not None:
        yield configured
        return
    with tempfile.TemporaryDirectory(prefix="onnx-export-") as directory:
        yield Path(directory)


def builder(
    module: Any,
    example: Mapping[str, Any],
    *,
    tower: str,
    model_key: str,
    revision: str,
    cache_dir: Path | None,
    threads: int,
) -> Callable[[str], OnnxTower]:
    """What ``settle`` calls per mode: the tower exported (or taken from the cache) in that
    mode, as a session."""

    def build(mode: str) -> OnnxTower:
        with export_dir(cache_dir) as directory:
            path = export(
                module,
                example,
                mode=mode,
                tower=tower,
                model_key=model_key,
                revision=revision,
                cache_dir=directory,
            )
            return OnnxTower(path, threads=threads)

    return build


def settle(
    *,
    name: str,
    requested: str,
    chosen: str,
    reference: np.ndarray,
    build: Callable[[str], OnnxTower],
    embed: Callable[[OnnxTower], np.ndarray],
    threshold: float,
) -> tuple[OnnxTower, PrecisionReport] | None:
    """The tower on ONNX Runtime in ``chosen`` (then fp32) when its calibration vectors agree
    with ``reference`` (the torch fp32 model's) to ``threshold``; None: run it on torch."""
    reason = ""
    for mode in dict.fromkeys((chosen, "fp32")):
        try:
            tower = build(mode)
            cosine = precision.min_cosine(reference, embed(tower))
        except ImportError as exc:
            logger.warning("%s runs on torch: ONNX Runtime is not installed (%s)", name, exc)
            return None
        except Exception as exc:  # noqa: BLE001 - the export or the session failed
            logger.warning(
                "%s runs on torch: ONNX Runtime cannot run it (%s: %s)",
                name,
                type(exc).__name__,
                str(exc)[:300],
            )
            return None
        if cosine >= threshold:
            if reason:
                logger.warning("%s runs in fp32 on ONNX Runtime: %s", name, reason)
            else:
                logger.info("%s runs in %s on ONNX Runtime (min cosine %.5f)", name, mode, cosine)
            report = PrecisionReport(requested, chosen, mode, cosine, reason, runtime=ONNX_RUNTIME)
            return tower, report
        reason = (
            f"{mode} on ONNX Runtime agrees with torch fp32 to a cosine of {cosine:.4f} on the "
            f"calibration batch, under PRECISION_MIN_COSINE {threshold}"
        )
    logger.warning("%s runs on torch: %s", name, reason)
    return None
