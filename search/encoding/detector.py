"""Object detection in a shopper's photo: the boxes a "shop the look" search or a tap on the
storefront starts from.

The model comes from ``DETECTOR_MODEL`` (a hub id at the pinned ``DETECTOR_MODEL_REVISION``,
or a local directory). Two kinds are understood:

* closed-set detectors (DETR, YOLOS, Conditional/Deformable DETR, ...) through
  ``AutoModelForObjectDetection``, used with the labels they were trained on;
* open-vocabulary ones (OWLv2, OWL-ViT, Grounding DINO) through
  ``AutoModelForZeroShotObjectDetection``, prompted with the words the caller passes (the
  query layer passes ``DETECTOR_PROMPTS`` when set, else the shop's own category names).

Whatever the model, the answer is bounded the same way: a score threshold, non-maximum
suppression across labels (two labels for one handbag are one item to a shopper), no box
that is the whole photo (that search exists already), at most ``DETECT_MAX_BOXES``.
Like CLIP: lazy, loaded once under a lock, a failed load remembered, GPU when present.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from search.encoding.base import InferenceModel, ModelUnavailable
from search.encoding.hub import (
    cached_commit,
    directory_content_hash,
    hub_has,
    looks_like_path,
    offline,
)

logger = logging.getLogger(__name__)

ZERO_SHOT_TYPES = {"owlv2", "owlvit", "grounding-dino", "mm-grounding-dino"}
# A box this large is the photo itself: the plain photo search already answers it.
WHOLE_PHOTO_SHARE = 0.9
# Slivers are not items a shopper could tap; the same floor as a drawn crop.
MIN_BOX_FRACTION = 0.02
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1, normalised, upright photo
    label: str
    score: float


def _load_parts(source: str, revision: str | None, local_only: bool) -> tuple[Any, Any, bool]:
    """Model, processor and whether the model is open-vocabulary."""
    import torch
    from transformers import (
        AutoConfig,
        AutoImageProcessor,
        AutoModelForObjectDetection,
        AutoModelForZeroShotObjectDetection,
        AutoProcessor,
    )

    common: dict[str, Any] = {"revision": revision, "local_files_only": local_only}
    config = AutoConfig.from_pretrained(source, **common)
    if config.model_type in ZERO_SHOT_TYPES:
        model = AutoModelForZeroShotObjectDetection.from_pretrained(
            source, dtype=torch.float32, **common
        )
        # Image processor and tokenizer; the PIL backend, as torchvision is not installed.
        processor = AutoProcessor.from_pretrained(source, backend="pil", **common)
        return model, processor, True
    model = AutoModelForObjectDetection.from_pretrained(source, dtype=torch.float32, **common)
    processor = AutoImageProcessor.from_pretrained(source, backend="pil", **common)
    return model, processor, False


def suppress(
    boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, keep_at_most: int
) -> list[int]:
    """Greedy non-maximum suppression over every label at once: indices of the boxes kept,
    best score first."""
    order = list(np.argsort(-scores, kind="stable"))
    kept: list[int] = []
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order and len(kept) < keep_at_most:
        best = order.pop(0)
        kept.append(int(best))
        if not order:
            break
        rest = np.array(order)
        left = np.maximum(boxes[best, 0], boxes[rest, 0])
        top = np.maximum(boxes[best, 1], boxes[rest, 1])
        right = np.minimum(boxes[best, 2], boxes[rest, 2])
        bottom = np.minimum(boxes[best, 3], boxes[rest, 3])
        overlap = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
        union = areas[best] + areas[rest] - overlap
        iou = np.where(union > 0, overlap / np.maximum(union, 1e-12), 0.0)
        order = [int(i) for i, value in zip(rest, iou, strict=True) if value <= iou_threshold]
    return kept


class ObjectDetector(InferenceModel):
    """A transformers object-detection model that finds items in a photo."""

    def __init__(
        self,
        model: str,
        revision: str | None,
        *,
        device: str = "auto",
        score_threshold: float = 0.5,
        iou_threshold: float = 0.5,
        max_boxes: int = 6,
        prompts: Sequence[str] = (),
    ) -> None:
        if not model:
            raise ModelUnavailable(
                "DETECTOR_MODEL is empty: set it to a hub id or a model directory, or set "
                "DETECTOR_ENABLED=false."
            )
        path = Path(model).expanduser()
        super().__init__(model, path if path.is_dir() else None)
        self.device_setting = device or "auto"
        self.device = "cpu"
        self.score_threshold = score_threshold
        self.iou_threshold = iou_threshold
        self.max_boxes = max(1, max_boxes)
        self.prompts = tuple(p.strip() for p in prompts if p.strip())
        self._requested_revision = revision or None
        if self._local_dir is None and revision and _FULL_SHA.match(revision):
            self._revision = revision
        self._processor: Any = None
        self.zero_shot = False

    def __repr__(self) -> str:
        return f"ObjectDetector({self.model_name!r}, revision={self._requested_revision!r})"

    def _key_name(self) -> str:
        return self._local_dir.name if self._local_dir is not None else self.model_name

    @property
    def display_name(self) -> str:
        """What clients are told: the hub id, or a directory's name (not the server's path)."""
        return self._key_name()

    # --- loading --------------------------------------------------------------------------

    def _load_locked(self) -> None:
        import torch

        model, processor, zero_shot = self._fetch()
        if self.device_setting == "auto":
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
        elif self.device_setting.startswith("cuda") and not torch.cuda.is_available():
            raise ModelUnavailable(
                f"DETECTOR_DEVICE is {self.device_setting!r} but torch sees no CUDA GPU: set "
                "DETECTOR_DEVICE=cpu or auto."
            )
        else:
            self.device = self.device_setting
        model = model.eval().to(self.device)
        if self._revision is None:
            self._revision = (
                directory_content_hash(self._local_dir)
                if self._local_dir is not None
                else cached_commit(self.model_name, self._requested_revision)
                or self._requested_revision
                or "main"
            )
        self._processor, self.zero_shot = processor, zero_shot
        self._model = model  # last: its presence means "loaded" to other threads
        logger.info("Loaded detector %s (revision %s)", self.model_name, self._revision)

    def _fetch(self) -> tuple[Any, Any, bool]:
        if self._local_dir is not None:
            try:
                return _load_parts(str(self._local_dir), None, True)
            except (OSError, ValueError, KeyError) as exc:
                logger.debug("Loading detector %s failed", self._local_dir, exc_info=True)
                raise ModelUnavailable(
                    f"DETECTOR_MODEL directory {str(self._local_dir)!r} holds no loadable "
                    f"object-detection model ({type(exc).__name__}): point DETECTOR_MODEL at a "
                    "directory with config.json, weights and preprocessor_config.json, or at a "
                    "hub id, or set DETECTOR_ENABLED=false."
                ) from None
        if looks_like_path(self.model_name):
            raise ModelUnavailable(
                f"DETECTOR_MODEL directory {self.model_name!r} does not exist: mount the model "
                "there, set DETECTOR_MODEL to a hub id, or set DETECTOR_ENABLED=false."
            )
        revision = self._requested_revision
        attempts = [True] if offline() or not hub_has(self.model_name, revision) else [True, False]
        for local_only in attempts:
            try:
                return _load_parts(self.model_name, revision, local_only)
            except Exception:  # missing, network, auth: all "unavailable" here
                logger.debug("Detector %s@%s not loaded", self.model_name, revision, exc_info=True)
        raise ModelUnavailable(
            f"Detector {self.model_name!r} at revision {revision or 'main'!r} is neither in the "
            "local Hugging Face cache nor downloadable here: check DETECTOR_MODEL / "
            f"DETECTOR_MODEL_REVISION, pre-download it (hf download {self.model_name} "
            f"--revision {revision or 'main'}), mount a directory and point DETECTOR_MODEL at "
            "it, or set DETECTOR_ENABLED=false."
        )

    # --- detecting ------------------------------------------------------------------------

    def detect(self, image: Image.Image, words: Sequence[str] = ()) -> list[Detection]:
        """Items in the photo, best first, bounded as the module docstring says. ``words`` are
        what an open-vocabulary model looks for (``prompts`` when none are given); a
        closed-set model ignores them."""
        import torch

        self.load()
        words = tuple(words) or self.prompts
        if self.zero_shot and not words:
            raise ModelUnavailable(
                f"DETECTOR_MODEL {self.model_name!r} is open-vocabulary and needs words to look "
                "for: set DETECTOR_PROMPTS (e.g. 'dress,handbag,shoe,lamp,chair') or give the "
                "products categories."
            )
        image = image if image.mode == "RGB" else image.convert("RGB")
        width, height = image.size
        with torch.inference_mode():
            boxes, scores, labels = self._raw_detections(image, words)
        if not len(scores):
            return []
        boxes = np.clip(boxes, 0, [width, height, width, height])
        normalised = boxes / np.array([width, height, width, height], dtype=np.float32)
        sides = np.stack([normalised[:, 2] - normalised[:, 0], normalised[:, 3] - normalised[:, 1]])
        usable = (
            (scores >= self.score_threshold)
            & (sides.min(axis=0) >= MIN_BOX_FRACTION)
            & (sides[0] * sides[1] < WHOLE_PHOTO_SHARE)
        )
        index = np.flatnonzero(usable)
        kept = suppress(normalised[index], scores[index], self.iou_threshold, self.max_boxes)
        return [
            Detection(
                box=tuple(round(float(v), 4) for v in normalised[index[k]]),  # type: ignore[arg-type]
                label=labels[index[k]],
                score=round(float(scores[index[k]]), 4),
            )
            for k in kept
        ]

    def _raw_detections(
        self, image: Image.Image, prompts: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Boxes (x0, y0, x1, y1 in pixels), scores and label names, before any bounding;
        the model's own threshold is left at 0 so that ours is the only one."""
        width, height = image.size
        if self.zero_shot:
            words = list(prompts)
            inputs = self._processor(text=[words], images=[image], return_tensors="pt")
            outputs = self._model(**inputs.to(self.device))
            # OWLv2 pads the photo to a square before it looks: boxes are in that square.
            side = max(width, height) if self._model.config.model_type == "owlv2" else None
            result = self._processor.post_process_grounded_object_detection(
                outputs,
                threshold=0.0,
                target_sizes=[(side or height, side or width)],
                text_labels=[words],
            )[0]
            names = [str(label) for label in result.get("text_labels", [])] or [
                words[int(i)] for i in result["labels"]
            ]
        else:
            inputs = self._processor(images=[image], return_tensors="pt")
            outputs = self._model(**inputs.to(self.device))
            result = self._processor.post_process_object_detection(
                outputs, threshold=0.0, target_sizes=[(height, width)]
            )[0]
            id2label = self._model.config.id2label
            names = [str(id2label.get(int(i), int(i))) for i in result["labels"]]
        return (
            result["boxes"].float().cpu().numpy().reshape(-1, 4),
            result["scores"].float().cpu().numpy(),
            names,
        )
