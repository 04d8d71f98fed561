"""Numeric precision of an encoder, chosen per machine and checked when the model loads.

``CLIP_PRECISION`` / ``TEXT_PRECISION``: ``fp32``, ``bf16`` (weights and activations in
bfloat16), ``int8`` (dynamic int8 ``Linear`` layers, a CPU technique) or ``auto``. Whatever
the mode, vectors stay in the fp32 model's space: same model, same collection, so a catalogue
indexed in one precision is searched with queries in another (tests/search/test_precision.py).

``auto`` picks by what the hardware does natively, from the CPU flags (/proc/cpuinfo) and
torch's own view (``torch.backends.cpu.get_cpu_capability()``):

- a CUDA GPU with bf16 support: bf16; any other GPU: fp32 (int8 here is CPU-only);
- a CPU with AMX (Sapphire Rapids and later): bf16, on its matrix tiles;
- any CPU that fbgemm serves (AVX2 and up): int8. On a 2-core EPYC with AVX-512 VNNI and BF16
  the ViT-B/32 pipeline did 74.6 images/s in int8 against 59.8 in bf16 and 19.2 in fp32
  (issue 18); on AVX2 without VNNI int8 still beat fp32 (bench/indexing.py);
- a CPU with AVX-512 BF16 but no fbgemm engine: bf16;
- otherwise fp32. bf16 without native instructions is emulated and slower than fp32, so
  ``auto`` never picks it there (an explicit ``bf16`` is obeyed).

Every mode but fp32 is then verified on a fixed calibration batch (generated pictures and
phrases): if the lowest cosine to the fp32 model's vectors is under ``PRECISION_MIN_COSINE``
the encoder keeps fp32 and logs why. The outcome (``PrecisionReport``) is shown by
``/readyz``, ``/metrics`` and ``manage.py index_status``.
"""

from __future__ import annotations

import copy
import functools
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

logger = logging.getLogger(__name__)

MODES = ("auto", "fp32", "bf16", "int8")

CALIBRATION_PHRASES = (
    "red leather jacket",
    "stainless steel kettle",
    "a pair of blue denim jeans with a long description of the cut and the wash",
    "oak dining chair",
    "gold hoop earrings",
    "linen summer dress with pockets",
)


class PrecisionUnavailable(ValueError):
    """A precision this device cannot run (int8 on a GPU, an unknown name)."""


# --- what the machine has ------------------------------------------------------------------------


@dataclass(frozen=True)
class Hardware:
    cpu_model: str
    flags: frozenset[str]
    torch_capability: str  # "DEFAULT", "AVX2", "AVX512", ...
    quantized_engines: tuple[str, ...]

    @property
    def native_bf16(self) -> bool:
        return bool({"avx512_bf16", "amx_bf16"} & self.flags)

    @property
    def amx(self) -> bool:
        return "amx_bf16" in self.flags

    @property
    def int8_engine(self) -> bool:
        """fbgemm (``x86``/``fbgemm`` engines) needs AVX2; without it int8 is not faster."""
        engines = {"x86", "fbgemm"} & set(self.quantized_engines)
        return bool(engines) and self.torch_capability != "DEFAULT"

    def describe(self) -> str:
        interesting = sorted(
            f for f in self.flags if f.startswith(("avx", "amx", "fma", "f16c", "sse4"))
        )
        return f"{self.cpu_model}; torch {self.torch_capability}; flags {' '.join(interesting)}"


def _cpuinfo(path: Path = Path("/proc/cpuinfo")) -> tuple[str, frozenset[str]]:
    model, flags = "", frozenset[str]()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return model, flags
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key in {"flags", "Features"} and not flags:
            flags = frozenset(value.split())
    return model, flags


@functools.cache
def hardware() -> Hardware:
    import platform

    import torch

    model, flags = _cpuinfo()
    return Hardware(
        cpu_model=model or platform.processor() or platform.machine(),
        flags=flags,
        torch_capability=str(torch.backends.cpu.get_cpu_capability()),
        quantized_engines=tuple(torch.backends.quantized.supported_engines),
    )


def choose(setting: str, device: str, machine: Hardware | None = None) -> str:
    """The concrete mode for a setting on a device ("cpu", "cuda", "cuda:N")."""
    import torch

    mode = (setting or "fp32").strip().lower()
    if mode not in MODES:
        raise PrecisionUnavailable(f"unknown precision {setting!r}: use one of {', '.join(MODES)}")
    on_gpu = device.startswith("cuda")
    if mode == "int8" and on_gpu:
        raise PrecisionUnavailable(
            "int8 (dynamic quantisation) is a CPU mode: use bf16, fp32 or auto on a GPU"
        )
    if mode != "auto":
        return mode
    if on_gpu:
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    machine = machine or hardware()
    if machine.amx:
        return "bf16"
    if machine.int8_engine:
        return "int8"
    return "bf16" if machine.native_bf16 else "fp32"


# --- turning a model into another precision --------------------------------------------------------


def convert(model: Any, mode: str) -> Any:
    """A copy of ``model`` in ``mode`` (the fp32 original stays usable as the reference)."""
    import torch

    if mode == "fp32":
        return model
    if mode == "bf16":
        return copy.deepcopy(model).to(torch.bfloat16)
    if mode == "int8":
        from torch.ao.quantization import quantize_dynamic

        with warnings.catch_warnings():
            # torch marks eager dynamic quantisation deprecated; it is still the one CPU path
            # that needs no extra package.
            warnings.simplefilter("ignore")
            return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=False)
    raise PrecisionUnavailable(f"unknown precision {mode!r}")


def dtype_of(mode: str) -> Any:
    """The dtype a model in this mode takes its floating-point inputs in."""
    import torch

    return torch.bfloat16 if mode == "bf16" else torch.float32


# --- the check at load ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrecisionReport:
    """What an encoder runs in and why."""

    requested: str  # the setting
    chosen: str  # what auto (or the setting) asked for
    mode: str  # what runs: ``chosen``, or fp32 after a failed check
    min_cosine: float | None  # against fp32 on the calibration batch; None for torch fp32
    reason: str = ""
    runtime: str = "torch"  # or "onnxruntime" (search/encoding/onnx_runtime.py)

    @property
    def fell_back(self) -> bool:
        return self.mode != self.chosen

    def as_dict(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "mode": self.mode,
            "runtime": self.runtime,
            "min_cosine": None if self.min_cosine is None else round(self.min_cosine, 5),
            **({"fell_back_from": self.chosen, "reason": self.reason} if self.fell_back else {}),
        }


def min_cosine(reference: np.ndarray, candidate: np.ndarray) -> float:
    a = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    b = candidate / np.linalg.norm(candidate, axis=1, keepdims=True)
    return float(np.sum(a * b, axis=1).min())


def settle(
    *,
    name: str,
    requested: str,
    chosen: str,
    model: Any,
    embed: Callable[[Any], np.ndarray],
    threshold: float,
) -> tuple[Any, PrecisionReport]:
    """Convert ``model`` to ``chosen`` and keep it when ``embed(model)`` (the calibration
    batch's vectors) agrees with the fp32 model's to ``threshold``; fp32 otherwise."""
    if chosen == "fp32":
        return model, PrecisionReport(requested, chosen, "fp32", None)
    reference = embed(model)
    try:
        converted = convert(model, chosen)
        cosine = min_cosine(reference, embed(converted))
    except Exception as exc:  # noqa: BLE001 - a mode this build cannot run: fp32 still works
        reason = f"{chosen} cannot run here ({type(exc).__name__}: {exc})"[:300]
        logger.warning("%s runs in fp32: %s", name, reason)
        return model, PrecisionReport(requested, chosen, "fp32", None, reason)
    if not cosine >= threshold:  # a NaN fails too
        reason = (
            f"{chosen} vectors agree with fp32 to a cosine of {cosine:.4f} on the calibration "
            f"batch, under PRECISION_MIN_COSINE {threshold}"
        )
        logger.warning("%s runs in fp32: %s", name, reason)
        return model, PrecisionReport(requested, chosen, "fp32", cosine, reason)
    logger.info("%s runs in %s (min cosine to fp32 %.5f)", name, chosen, cosine)
    return converted, PrecisionReport(requested, chosen, chosen, cosine)


def calibration_images(count: int = 6, size: int = 96) -> list[Image.Image]:
    """Fixed, generated pictures: gradients and shapes in several colours (no files needed)."""
    rng = np.random.default_rng(18)
    images = []
    for _ in range(count):
        start, end = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        ramp = np.linspace(0.0, 1.0, size)[None, :, None]
        pixels = (start + (end - start) * ramp).repeat(size, axis=0).astype(np.uint8)
        image = Image.fromarray(pixels, "RGB")
        draw = ImageDraw.Draw(image)
        for _ in range(3):
            x0, y0 = (int(v) for v in rng.integers(0, size * 2 // 3, 2))
            w, h = (int(v) for v in rng.integers(size // 6, size // 2, 2))
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            draw.ellipse((x0, y0, x0 + w, y0 + h), fill=colour)
        images.append(image)
    return images


# --- /metrics -------------------------------------------------------------------------------------


def record(tower: str, report: PrecisionReport) -> None:
    """Publish a tower's precision and cosine on /metrics."""
    from config.metrics import ENCODER_PRECISION_COSINE, ENCODER_PRECISION_MODE

    for mode in MODES[1:]:
        ENCODER_PRECISION_MODE.labels(tower=tower, mode=mode).set(1 if mode == report.mode else 0)
    if report.min_cosine is not None:
        ENCODER_PRECISION_COSINE.labels(tower=tower).set(report.min_cosine)
