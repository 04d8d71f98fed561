"""The process's encoders, built from the settings: one object per model, loaded on first use.

``get_clip_encoder`` and ``get_text_encoder`` follow the settings (a change builds a new
encoder); ``clip_encoder_for`` serves a collection built by another CLIP model or revision
(during and after a blue/green ``reindex --model``).
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings

from search.encoding.base import ModelUnavailable
from search.encoding.clip import ClipEncoder
from search.encoding.detector import ObjectDetector
from search.encoding.text import TextEncoder

_lock = threading.Lock()
_clip_encoder: tuple[tuple[Any, ...], ClipEncoder] | None = None
_text_encoder: tuple[str, TextEncoder] | None = None
_other_clip_encoders: dict[str, ClipEncoder] = {}
_detector: tuple[tuple[Any, ...], ObjectDetector] | None = None


def _clip_from_settings(model_name: str, revision: str | None) -> ClipEncoder:
    return ClipEncoder(
        model_name,
        revision or None,
        quantize_int8=settings.CLIP_QUANTIZE_INT8,
        threads=settings.TORCH_THREADS,
        batch_size=settings.EMBED_BATCH_SIZE,
        device=settings.CLIP_DEVICE,
    )


def get_clip_encoder() -> ClipEncoder:
    """The process's CLIP encoder, built from settings (loaded on first use)."""
    global _clip_encoder
    key = (
        settings.CLIP_MODEL,
        settings.CLIP_MODEL_REVISION,
        settings.CLIP_QUANTIZE_INT8,
        settings.TORCH_THREADS,
        settings.EMBED_BATCH_SIZE,
        settings.CLIP_DEVICE,
    )
    with _lock:
        if _clip_encoder is None or _clip_encoder[0] != key:
            _clip_encoder = (
                key,
                _clip_from_settings(settings.CLIP_MODEL, settings.CLIP_MODEL_REVISION),
            )
        return _clip_encoder[1]


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
    global _text_encoder
    with _lock:
        if _text_encoder is None or _text_encoder[0] != settings.TEXT_MODEL:
            _text_encoder = (settings.TEXT_MODEL, TextEncoder(settings.TEXT_MODEL))
        return _text_encoder[1]


def get_detector() -> ObjectDetector:
    """The process's object detector, built from settings (loaded on first use); raises
    ModelUnavailable, naming the setting, when detection is switched off."""
    global _detector
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
    with _lock:
        if _detector is None or _detector[0] != key:
            _detector = (
                key,
                ObjectDetector(
                    settings.DETECTOR_MODEL,
                    settings.DETECTOR_MODEL_REVISION or None,
                    device=settings.DETECTOR_DEVICE,
                    score_threshold=settings.DETECT_SCORE_THRESHOLD,
                    iou_threshold=settings.DETECT_NMS_IOU,
                    max_boxes=settings.DETECT_MAX_BOXES,
                    prompts=tuple(settings.DETECTOR_PROMPTS.split(",")),
                ),
            )
        return _detector[1]


def forget_other_clip_encoders() -> None:
    """Drop the encoders of other models (after a switch; tests)."""
    with _lock:
        _other_clip_encoders.clear()


def reset_encoders() -> None:
    """Forget the process's encoders (tests; a settings change)."""
    global _clip_encoder, _text_encoder, _detector
    with _lock:
        _clip_encoder = None
        _text_encoder = None
        _detector = None
        _other_clip_encoders.clear()
