"""The process's encoders, built from the settings: one object per model, loaded on first use.

``get_clip_encoder`` and ``get_text_encoder`` follow the settings (a change builds a new
encoder); ``clip_encoder_for`` serves a collection built by another CLIP model or revision
(during and after a blue/green ``reindex --model``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings

from search.encoding.base import ModelUnavailable
from search.encoding.clip import ClipEncoder
from search.encoding.detector import ObjectDetector
from search.encoding.precision import PrecisionReport
from search.encoding.text import TextEncoder

_lock = threading.Lock()
# role ("clip", "text", "detector") -> (the settings it was built from, the model object)
_from_settings: dict[str, tuple[Any, Any]] = {}
_other_clip_encoders: dict[str, ClipEncoder] = {}
T = TypeVar("T")


def _for_settings(role: str, key: Any, build: Callable[[], T]) -> T:
    """The process's model for a role, built again when the settings it came from change."""
    with _lock:
        current = _from_settings.get(role)
        if current is None or current[0] != key:
            current = _from_settings[role] = (key, build())
        return current[1]


def _clip_precision() -> str:
    # CLIP_QUANTIZE_INT8 is the deprecated spelling of CLIP_PRECISION=int8: settings.py reads it
    # as the default of CLIP_PRECISION; a test or a shell that flips it later still means int8.
    if settings.CLIP_QUANTIZE_INT8 and settings.CLIP_PRECISION in {"", "fp32"}:
        return "int8"
    return settings.CLIP_PRECISION


def _clip_from_settings(model_name: str, revision: str | None) -> ClipEncoder:
    return ClipEncoder(
        model_name,
        revision or None,
        precision=_clip_precision(),
        min_cosine=settings.PRECISION_MIN_COSINE,
        threads=settings.TORCH_THREADS,
        batch_size=settings.EMBED_BATCH_SIZE,
        device=settings.CLIP_DEVICE,
        text_runtime=settings.TEXT_RUNTIME,
        runtime_cache=settings.ONNX_CACHE_DIR,
    )


def get_clip_encoder() -> ClipEncoder:
    """The process's CLIP encoder, built from settings (loaded on first use)."""
    key = (
        settings.CLIP_MODEL,
        settings.CLIP_MODEL_REVISION,
        _clip_precision(),
        settings.PRECISION_MIN_COSINE,
        settings.TORCH_THREADS,
        settings.EMBED_BATCH_SIZE,
        settings.CLIP_DEVICE,
        settings.TEXT_RUNTIME,
        settings.ONNX_CACHE_DIR,
    )
    return _for_settings(
        "clip", key, lambda: _clip_from_settings(settings.CLIP_MODEL, settings.CLIP_MODEL_REVISION)
    )


def clip_encoder_for(model_name: str, revision: str) -> ClipEncoder:
    """The encoder of a given CLIP model and revision: the configured one when it matches."""
    configured = get_clip_encoder()
    if configured.model_name == model_name and configured.revision == revision:
        return configured
    key = f"{model_name}@{revision}"
    with _lock:
        encoder = _other_clip_encoders.get(key)
        if encoder is None:
            encoder = _other_clip_encoders[key] = _clip_from_settings(model_name, revision)
    return encoder


def get_text_encoder() -> TextEncoder:
    """The process's text encoder, built from settings.TEXT_MODEL (loaded on first use)."""
    key = (
        settings.TEXT_MODEL,
        settings.TEXT_PRECISION,
        settings.PRECISION_MIN_COSINE,
        settings.TEXT_RUNTIME,
        settings.ONNX_CACHE_DIR,
        settings.TORCH_THREADS,
    )
    return _for_settings(
        "text",
        key,
        lambda: TextEncoder(
            settings.TEXT_MODEL,
            precision=settings.TEXT_PRECISION,
            min_cosine=settings.PRECISION_MIN_COSINE,
            runtime=settings.TEXT_RUNTIME,
            runtime_cache=settings.ONNX_CACHE_DIR,
            threads=settings.TORCH_THREADS,
        ),
    )


def get_detector() -> ObjectDetector:
    """The process's object detector, built from settings (loaded on first use); raises
    ModelUnavailable, naming the setting, when detection is switched off."""
    if not settings.DETECTOR_ENABLED:
        raise ModelUnavailable(
            "object detection is switched off on this server (DETECTOR_ENABLED=false); a "
            "drawn crop still works."
        )
    key = (
        settings.DETECTOR_MODEL,
        settings.DETECTOR_MODEL_REVISION,
        settings.DETECTOR_DEVICE,
        settings.DETECT_SCORE_THRESHOLD,
        settings.DETECT_NMS_IOU,
        settings.DETECT_MAX_BOXES,
        settings.DETECTOR_PROMPTS,
    )
    return _for_settings(
        "detector",
        key,
        lambda: ObjectDetector(
            settings.DETECTOR_MODEL,
            settings.DETECTOR_MODEL_REVISION or None,
            device=settings.DETECTOR_DEVICE,
            score_threshold=settings.DETECT_SCORE_THRESHOLD,
            iou_threshold=settings.DETECT_NMS_IOU,
            max_boxes=settings.DETECT_MAX_BOXES,
            prompts=tuple(settings.DETECTOR_PROMPTS.split(",")),
        ),
    )


def loaded_precisions() -> dict[str, PrecisionReport]:
    """The precision of this process's loaded CLIP and text encoders ("clip", "text"), and of
    CLIP's text tower ("clip_text") when it runs on a runtime of its own (ONNX Runtime)."""
    with _lock:
        models = {role: model for role, (_, model) in _from_settings.items()}
    reports: dict[str, PrecisionReport] = {}
    for role, model in sorted(models.items()):
        report = getattr(model, "precision", None)
        if report is None:
            continue
        reports[role] = report
        text_report = getattr(model, "text_precision", None)
        if text_report is not None and text_report is not report:
            reports[f"{role}_text"] = text_report
    return reports


def forget_other_clip_encoders() -> None:
    """Drop the encoders of other models (after a switch; tests)."""
    with _lock:
        _other_clip_encoders.clear()


def reset_encoders() -> None:
    """Forget the process's encoders (tests; a settings change)."""
    with _lock:
        _from_settings.clear()
        _other_clip_encoders.clear()
