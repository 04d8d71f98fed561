"""CLIP image and text encoders: one loaded model per process, L2-normalised float32 vectors.

The model comes from ``CLIP_MODEL`` (a Hugging Face hub id at the pinned
``CLIP_MODEL_REVISION``, or a local directory). Every vector is recorded with the
encoder's ``model_key`` so that vectors from another model or revision can be found
and rebuilt.

torch and transformers are imported on first use: importing this module is cheap, so
web processes and management commands that never encode pay nothing for it.
"""

from __future__ import annotations

import io
import itertools
import logging
import math
import os
import re
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from PIL import Image, ImageOps

from search.encoding import onnx_runtime, precision
from search.encoding.base import InferenceModel, ModelUnavailable
from search.encoding.hub import (
    cached_commit,
    directory_content_hash,
    hub_has,
    looks_like_path,
    offline,
)
from search.encoding.precision import PrecisionReport

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

K = TypeVar("K")

_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
# Errors PIL raises on bytes it cannot decode (truncated, corrupt, bomb, unknown format).
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    Image.DecompressionBombError,
)


def _resolve_device(setting: str) -> str:
    """ "cpu", "cuda", "cuda:1", or "auto" (CUDA when torch sees a GPU)."""
    import torch

    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting.startswith("cuda") and not torch.cuda.is_available():
        raise ModelUnavailable(
            f"CLIP_DEVICE is {setting!r} but torch sees no CUDA GPU: set CLIP_DEVICE=cpu or auto."
        )
    return setting


class UnreadableImage(ValueError):
    """Bytes that PIL cannot decode as an image."""


def _load_parts(source: str, revision: str | None, local_only: bool) -> tuple[Any, Any, Any]:
    """Model, tokenizer and image processor of a checkpoint (a hub id or a directory)."""
    import torch
    from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

    common: dict[str, Any] = {"revision": revision, "local_files_only": local_only}
    model = AutoModel.from_pretrained(source, dtype=torch.float32, **common)
    tokenizer = AutoTokenizer.from_pretrained(source, **common)
    # The PIL backend: the torchvision one needs torchvision, which this project does not install.
    image_processor = AutoImageProcessor.from_pretrained(source, backend="pil", **common)
    return model, tokenizer, image_processor


def _features(output: Any) -> torch.Tensor:
    # transformers 5 returns an output object whose pooler_output is the projected embedding.
    return output if not hasattr(output, "pooler_output") else output.pooler_output


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    has_alpha = image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        # Product cut-outs have transparent backgrounds; convert("RGB") would show whatever colour
        # hides under the alpha (often black). Composite on white, as a storefront shows them.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


class ClipEncoder(InferenceModel):
    """A CLIP-family model that turns texts and images into comparable unit vectors."""

    def __init__(
        self,
        model: str,
        revision: str | None,
        *,
        precision: str = "fp32",
        min_cosine: float = 0.99,
        quantize_int8: bool = False,
        device: str = "cpu",
        threads: int = 0,
        batch_size: int = 16,
        text_runtime: str = "torch",
        runtime_cache: Path | None = None,
    ) -> None:
        """``precision``: fp32, bf16, int8 or auto (search/encoding/precision.py), verified at
        load against fp32 to ``min_cosine``. ``quantize_int8`` is the deprecated spelling of
        ``precision="int8"`` (CLIP_QUANTIZE_INT8). ``text_runtime``: what the text tower runs
        on, torch, onnx or auto (search/encoding/onnx_runtime.py); ``runtime_cache`` keeps its
        ONNX exports (None: exported into a temporary directory at each load)."""
        if not model:
            raise ModelUnavailable("CLIP_MODEL is empty: set it to a hub id or a model directory.")
        local_dir = Path(model).expanduser() if Path(model).expanduser().is_dir() else None
        super().__init__(model, local_dir)
        self.precision_setting = "int8" if quantize_int8 and precision == "fp32" else precision
        self.min_cosine = min_cosine
        self.precision: PrecisionReport | None = None  # set at load
        # The text tower's: the same as ``precision`` on torch, its own on ONNX Runtime.
        self.text_precision: PrecisionReport | None = None
        self.text_runtime_setting = text_runtime
        self.runtime_cache = runtime_cache
        self._text_tower: Any = None  # tokens -> (n, dim) text features, torch or ONNX
        self._dtype: Any = None
        self.device_setting = device or "cpu"
        self.device = "cpu"  # resolved at load: "auto" picks CUDA when there is one
        self.threads = threads
        self.batch_size = max(1, batch_size)
        self._requested_revision = revision or None
        if self._local_dir is None and revision and _FULL_SHA.match(revision):
            self._revision = revision
        # A fast tokenizer is one Rust object; a call that changes its padding/truncation state
        # while another thread tokenizes fails with "Already borrowed". Tokenizing is cheap.
        self._tokenizer_lock = threading.Lock()
        self._tokenizer: Any = None
        self._image_processor: Any = None
        self._text_max_length = 77
        self._draft_edge = 0
        self._prefetch_workers = max(1, min(4, os.cpu_count() or 1))

    @property
    def quantize_int8(self) -> bool:
        """Deprecated: whether the model runs with int8 layers (see ``precision``)."""
        return self.precision is not None and self.precision.mode == "int8"

    def __repr__(self) -> str:
        return f"ClipEncoder({self.model_name!r}, revision={self._requested_revision!r})"

    def _key_name(self) -> str:
        return self._local_dir.name if self._local_dir is not None else self.model_name

    # --- loading --------------------------------------------------------------------------

    def _load_locked(self) -> None:
        import torch

        if self.threads > 0:
            torch.set_num_threads(self.threads)
        if self._local_dir is not None and self._requested_revision:
            logger.info(
                "CLIP_MODEL is a directory: CLIP_MODEL_REVISION %s is ignored, its content hash "
                "is the revision",
                self._requested_revision,
            )
        model, tokenizer, image_processor = self._fetch()
        if not (hasattr(model, "get_image_features") and hasattr(model, "get_text_features")):
            raise ModelUnavailable(
                f"CLIP_MODEL {self.model_name!r} is a {type(model).__name__}, not a CLIP-style "
                "image-text model: set CLIP_MODEL to a CLIP-family checkpoint."
            )
        model.eval()
        # int8 is a CPU technique: with CLIP_DEVICE=auto it keeps the model there.
        int8_cpu = self.precision_setting == "int8" and self.device_setting == "auto"
        self.device = "cpu" if int8_cpu else _resolve_device(self.device_setting)
        if self.device != "cpu":
            # A GPU outruns a few decoding threads by far (bench/gpu_embedding.py): give
            # JPEG decoding and resizing every core, since the GPU does the model's work.
            self._prefetch_workers = max(self._prefetch_workers, os.cpu_count() or 1)
            model = model.to(self.device)
        try:
            chosen = precision.choose(self.precision_setting, self.device)
            text_on_onnx = onnx_runtime.wanted(
                self.text_runtime_setting, device=self.device, mode=chosen
            )
        except precision.PrecisionUnavailable as exc:
            raise ModelUnavailable(f"CLIP_PRECISION: {exc}.") from None
        except onnx_runtime.RuntimeUnavailable as exc:
            raise ModelUnavailable(f"TEXT_RUNTIME: {exc}.") from None
        config = model.config
        self._dim = int(getattr(config, "projection_dim", 0) or 0)
        text_positions = getattr(
            getattr(config, "text_config", None), "max_position_embeddings", 77
        )
        tokenizer_limit = getattr(tokenizer, "model_max_length", None) or text_positions
        self._text_max_length = int(min(text_positions, tokenizer_limit))
        self._draft_edge = self._processor_edge(image_processor)
        if self._revision is None:
            # Hashing here (under the lock) rather than through the property, which takes it too.
            self._revision = (
                directory_content_hash(self._local_dir)
                if self._local_dir is not None
                else self._resolved_commit()
            )
        self._tokenizer = tokenizer
        self._image_processor = image_processor
        fp32_model = model
        model, self.precision = precision.settle(
            name=f"CLIP model {self.model_name}",
            requested=self.precision_setting,
            chosen=chosen,
            model=model,
            embed=self._calibration_vectors,
            threshold=self.min_cosine,
        )
        self._dtype = precision.dtype_of(self.precision.mode)
        precision.record("clip", self.precision)
        self._text_tower, self.text_precision = _TorchTextTower(model, self.device), self.precision
        if text_on_onnx:
            settled = self._text_on_onnx(fp32_model, chosen)
            if settled is not None:
                self._text_tower, self.text_precision = settled
                precision.record("clip_text", self.text_precision)
        del fp32_model
        if not self._dim:  # a config without projection_dim: ask the model
            self._dim = int(self._run_images(model, [self._blank_pixels()], self._dtype).shape[-1])
        self._model = model  # last: its presence means "loaded" to other threads
        logger.info(
            "Loaded CLIP model %s (revision %s, dim %s, precision %s)",
            self.model_name,
            self._revision,
            self._dim,
            self.precision.mode,
        )

    def _calibration_vectors(self, model: Any) -> np.ndarray:
        """The calibration batch (pictures and phrases) through ``model``: what a precision is
        checked on against fp32 at load."""
        dtype = precision.dtype_of("bf16") if _is_bf16(model) else None
        pixels = [self._preprocess(image) for image in precision.calibration_images()]
        images = self._run_images(model, pixels, dtype)
        texts = self._run_texts(_TorchTextTower(model, self.device), precision.CALIBRATION_PHRASES)
        return np.concatenate([images, texts])

    def _text_on_onnx(self, model: Any, chosen: str) -> tuple[Any, PrecisionReport] | None:
        """The text tower on ONNX Runtime, checked against ``model`` (fp32) on the calibration
        phrases; None when it cannot run there or disagrees (the torch tower stays)."""
        phrases = precision.CALIBRATION_PHRASES
        reference = self._run_texts(_TorchTextTower(model, self.device), phrases)
        tokens = self._tokens(phrases[:2])
        example = {name: tokens[name] for name in ("input_ids", "attention_mask")}

        build = onnx_runtime.builder(
            _text_module(model),
            example,
            tower="clip-text",
            model_key=self.model_key,
            revision=self.revision,
            cache_dir=self.runtime_cache,
            threads=self.threads,
        )

        return onnx_runtime.settle(
            name=f"CLIP text tower {self.model_name}",
            requested=self.precision_setting,
            chosen=chosen,
            reference=reference,
            build=build,
            embed=lambda tower: self._run_texts(tower, phrases),
            threshold=self.min_cosine,
        )

    def _fetch(self) -> tuple[Any, Any, Any]:
        if self._local_dir is not None:
            try:
                return _load_parts(str(self._local_dir), None, True)
            except (OSError, ValueError) as exc:
                logger.debug("Loading %s failed", self._local_dir, exc_info=True)
                raise ModelUnavailable(
                    f"CLIP_MODEL directory {str(self._local_dir)!r} holds no loadable CLIP model "
                    f"({type(exc).__name__}): point CLIP_MODEL at a directory with config.json, "
                    "weights and processor files, or at a hub id."
                ) from None
        if looks_like_path(self.model_name):
            raise ModelUnavailable(
                f"CLIP_MODEL directory {self.model_name!r} does not exist: mount the model there "
                "or set CLIP_MODEL to an existing directory or a hub id."
            )
        revision = self._requested_revision
        try:
            # The local cache first: no network round trip when the model is already there.
            return _load_parts(self.model_name, revision, True)
        except (OSError, ValueError):
            logger.debug(
                "%s@%s is not in the local cache", self.model_name, revision, exc_info=True
            )
        if not offline() and hub_has(self.model_name, revision):
            try:
                return _load_parts(self.model_name, revision, False)
            except Exception:  # network, auth, disk: all mean "unavailable" here
                logger.debug("Downloading %s@%s failed", self.model_name, revision, exc_info=True)
        reason = (
            "and HF_HUB_OFFLINE forbids downloading it"
            if offline()
            else "and the hub did not provide it"
        )
        raise ModelUnavailable(
            f"CLIP model {self.model_name!r} at revision {revision or 'main'!r} is not in the "
            f"local Hugging Face cache {reason}: check CLIP_MODEL / CLIP_MODEL_REVISION, "
            f"pre-download it (hf download {self.model_name} --revision {revision or 'main'}) "
            "or mount a model directory and set CLIP_MODEL to its path."
        ) from None

    def _resolved_commit(self) -> str:
        commit = cached_commit(self.model_name, self._requested_revision)
        return commit or self._requested_revision or "main"

    @staticmethod
    def _processor_edge(image_processor: Any) -> int:
        """The smallest image edge the processor needs before it resizes (0: unknown)."""
        edges: list[int] = []
        for attr in ("size", "crop_size"):
            size = getattr(image_processor, attr, None)
            if size is None:
                continue
            for field in ("shortest_edge", "height", "width"):
                value = size.get(field) if isinstance(size, dict) else getattr(size, field, None)
                if value:
                    edges.append(int(value))
        return max(edges, default=0)

    def _blank_pixels(self) -> np.ndarray:
        return self._preprocess(Image.new("RGB", (max(self._draft_edge, 32),) * 2))

    # --- images -------------------------------------------------------------------------

    def _decode(self, data: bytes) -> Image.Image:
        try:
            image = Image.open(io.BytesIO(data))
            if image.format in {"JPEG", "MPO"} and self._draft_edge:
                width, height = image.size
                scale = self._draft_edge / min(width, height)
                if scale <= 0.5:
                    # Let libjpeg decode at 1/2, 1/4 or 1/8 size: far less work on the large
                    # catalogue photos, and the result stays at least as large as the model input.
                    image.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))
            ImageOps.exif_transpose(image, in_place=True)  # shopper phone photos; loads the pixels
            return _to_rgb(image)
        except _DECODE_ERRORS as exc:
            raise UnreadableImage(f"cannot decode image: {exc}") from None

    def _preprocess(self, image: Image.Image) -> np.ndarray:
        pixels = self._image_processor(images=[_to_rgb(image)], return_tensors="np")
        return np.asarray(pixels["pixel_values"][0], dtype=np.float32)

    def _prepare(self, image: Image.Image | bytes) -> np.ndarray:
        if isinstance(image, (bytes, bytearray, memoryview)):
            return self._preprocess(self._decode(bytes(image)))
        return self._preprocess(image)

    def _load_and_prepare(self, loader: Callable[[], bytes]) -> np.ndarray | UnreadableImage:
        data = loader()  # exceptions from storage propagate: they are the caller's to retry
        try:
            return self._prepare(data)
        except UnreadableImage as exc:
            return exc

    def _run_images(
        self, model: Any, arrays: Sequence[np.ndarray], dtype: Any = None, batch_size: int = 0
    ) -> np.ndarray:
        import torch

        size = batch_size or self.batch_size
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(arrays), size):
                chunk = torch.from_numpy(np.stack(arrays[start : start + size]))
                chunk = chunk.to(self.device, dtype=dtype or torch.float32)
                features = _features(model.get_image_features(pixel_values=chunk))
                outputs.append(
                    torch.nn.functional.normalize(features.float(), dim=-1).cpu().numpy()
                )
        if not outputs:
            return np.empty((0, self._dim), dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(outputs), dtype=np.float32)

    def _embed_pixels(self, arrays: Sequence[np.ndarray], batch_size: int = 0) -> np.ndarray:
        return self._run_images(self._model, arrays, self._dtype, batch_size)

    def encode_images(self, images: Sequence[Image.Image | bytes]) -> np.ndarray:
        """(n, dim) unit vectors; UnreadableImage for bytes PIL cannot decode."""
        self.load()
        return self._embed_pixels([self._prepare(image) for image in images])

    def encode_image_stream(
        self,
        items: Iterable[tuple[K, Callable[[], bytes]]],
        batch_size: int | None = None,
    ) -> Iterator[tuple[K, np.ndarray | UnreadableImage]]:
        """Encode many stored images: read and decode the next batch while the model runs.

        Yields (key, vector) in input order, or (key, UnreadableImage) for bytes that are not an
        image. An exception raised by a loader (storage down) is raised here after the items
        before it have been yielded.
        """
        self.load()
        size = max(1, batch_size or self.batch_size)
        source = iter(items)
        pool = ThreadPoolExecutor(self._prefetch_workers, thread_name_prefix="clip-prefetch")

        def submit_next() -> list[tuple[K, Future[np.ndarray | UnreadableImage]]]:
            return [
                (key, pool.submit(self._load_and_prepare, loader))
                for key, loader in itertools.islice(source, size)
            ]

        try:
            upcoming = submit_next()
            while upcoming:
                current, upcoming = upcoming, []
                ready: list[tuple[K, np.ndarray | UnreadableImage]] = []
                failure: BaseException | None = None
                for key, future in current:
                    try:
                        ready.append((key, future.result()))
                    except Exception as exc:  # noqa: BLE001 - re-raised below, after the good ones
                        failure = exc
                        break
                if failure is None:
                    upcoming = submit_next()  # decoded by the pool while the model runs below
                arrays = [value for _, value in ready if isinstance(value, np.ndarray)]
                vectors = iter(self._embed_pixels(arrays, size))
                for key, value in ready:
                    yield key, (next(vectors) if isinstance(value, np.ndarray) else value)
                if failure is not None:
                    raise failure
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    # --- texts --------------------------------------------------------------------------

    def encode_text_query(self, text: str) -> np.ndarray:
        """One shopper query as a unit vector, the same as ``encode_texts([text])[0]``.

        The text tower's runtime answers (ONNX Runtime where it runs, torch otherwise: one code
        path for queries and batches, whatever the precision), measured side by side against
        eager torch, its int8 and ``torch.compile`` in bench/query_runtime.py."""
        return self.encode_texts([text])[0]

    def _tokens(self, texts: Sequence[str]) -> Any:
        with self._tokenizer_lock:
            return self._tokenizer(
                list(texts),
                padding=True,
                truncation=True,
                max_length=self._text_max_length,
                return_tensors="pt",
            )

    def _run_texts(self, tower: Any, texts: Sequence[str]) -> np.ndarray:
        outputs = [
            tower(self._tokens(texts[start : start + self.batch_size]))
            for start in range(0, len(texts), self.batch_size)
        ]
        if not outputs:
            return np.empty((0, self._dim), dtype=np.float32)
        matrix = np.concatenate(outputs).astype(np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(matrix)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) unit vectors; texts longer than the model's context are truncated."""
        self.load()
        return self._run_texts(self._text_tower, texts)


class _TorchTextTower:
    """The CLIP model's own text tower, eager under ``inference_mode``."""

    def __init__(self, model: Any, device: str) -> None:
        self.model = model
        self.device = device

    def __call__(self, tokens: Any) -> np.ndarray:
        import torch

        with torch.inference_mode():
            features = _features(
                self.model.get_text_features(
                    input_ids=tokens["input_ids"].to(self.device),
                    attention_mask=tokens["attention_mask"].to(self.device),
                )
            )
        return features.float().cpu().numpy()


def _text_module(model: Any) -> Any:
    """The text tower as a module of (input_ids, attention_mask): what the ONNX export sees."""
    import torch

    class TextTower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return _features(
                self.model.get_text_features(input_ids=input_ids, attention_mask=attention_mask)
            )

    return TextTower()


def _is_bf16(model: Any) -> bool:
    import torch

    return any(parameter.dtype == torch.bfloat16 for parameter in model.parameters())
