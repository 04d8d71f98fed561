"""CLIP image and text encoders: one loaded model per process, L2-normalised float32 vectors.

The model comes from ``CLIP_MODEL`` (a Hugging Face hub id at the pinned
``CLIP_MODEL_REVISION``, or a local directory). Every vector is recorded with the
encoder's ``model_key`` so that vectors from another model or revision can be found
and rebuilt.

torch and transformers are imported on first use: importing this module is cheap, so
web processes and management commands that never encode pay nothing for it.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import logging
import math
import os
import re
import struct
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from PIL import Image, ImageOps

from search.model_loading import MODEL_LOAD_LOCK
from search.query_trace import PROBES, QueryTrace, trace, unit

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

K = TypeVar("K")

# Files of a model directory that decide the vectors it produces (README and the like do not).
_CONTENT_SUFFIXES = (".json", ".txt", ".safetensors", ".bin", ".model", ".pt", ".pth")
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


_RETRY_FAILED_LOAD_SECONDS = 60.0


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


class ModelUnavailable(RuntimeError):
    """The configured model's weights cannot be found (or are not a CLIP-style model)."""


class UnreadableImage(ValueError):
    """Bytes that PIL cannot decode as an image."""


def _offline() -> bool:
    from huggingface_hub import constants

    # The environment too: the hub reads it once at import; tests and operators may set it later.
    flag = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return constants.HF_HUB_OFFLINE or flag.strip().lower() in {"1", "true", "yes", "on"}


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:48].strip("-") or "model"


def _looks_like_path(model: str) -> bool:
    # A hub id is "name" or "owner/name"; anything else can only have meant a directory.
    return model.startswith(("/", ".", "~")) or model.count("/") > 1


def directory_content_hash(directory: Path) -> str:
    """sha256 over the relative names and bytes of the files that decide a model's output."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if not path.name.endswith(_CONTENT_SUFFIXES) or path.name.lower().startswith("readme"):
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        with path.open("rb") as fh:
            digest.update(hashlib.file_digest(fh, "sha256").digest())
    return digest.hexdigest()


def cached_commit(repo_id: str, revision: str | None, filename: str = "config.json") -> str | None:
    """The commit a hub id and revision (branch, tag or sha) resolve to in the local cache."""
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(repo_id, filename, revision=revision)
    except ValueError:  # not a valid repo id
        return None
    return Path(cached).parent.name if isinstance(cached, str) else None  # snapshots/<commit>/


def _hub_has(repo_id: str, revision: str | None) -> bool:
    """One quick request, no retries: is the hub reachable and does it know this revision?

    A download of a missing file retries with back-off for half a minute; this answers in one
    round trip (HF_HUB_ETAG_TIMEOUT at most), so an unreachable hub fails fast.
    """
    from huggingface_hub import HfApi, constants

    try:
        HfApi().model_info(repo_id, revision=revision, timeout=constants.HF_HUB_ETAG_TIMEOUT)
    except Exception:  # noqa: BLE001 - unreachable, unknown repo or revision, no access
        logger.debug("Hub lookup of %s@%s failed", repo_id, revision, exc_info=True)
        return False
    return True


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


class ClipEncoder:
    """A CLIP-family model that turns texts and images into comparable unit vectors."""

    def __init__(
        self,
        model: str,
        revision: str | None,
        *,
        quantize_int8: bool = False,
        device: str = "cpu",
        threads: int = 0,
        batch_size: int = 16,
    ) -> None:
        if not model:
            raise ModelUnavailable("CLIP_MODEL is empty: set it to a hub id or a model directory.")
        self.model_name = model
        self.quantize_int8 = quantize_int8
        self.device_setting = device or "cpu"
        self.device = "cpu"  # resolved at load: "auto" picks CUDA when there is one
        self._failed_at = 0.0
        self._failure: ModelUnavailable | None = None
        self.threads = threads
        self.batch_size = max(1, batch_size)
        self._requested_revision = revision or None
        self._local_dir = Path(model).expanduser() if Path(model).expanduser().is_dir() else None
        self._revision: str | None = None
        if self._local_dir is None and revision and _FULL_SHA.match(revision):
            self._revision = revision
        self._lock = threading.Lock()
        # A fast tokenizer is one Rust object; a call that changes its padding/truncation state
        # while another thread tokenizes fails with "Already borrowed". Tokenizing is cheap.
        self._tokenizer_lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._image_processor: Any = None
        self._dim = 0
        self._text_max_length = 77
        self._query_trace = QueryTrace(f"CLIP model {self.model_name}", self._trace, self._embed)
        self._draft_edge = 0
        self._prefetch_workers = max(1, min(4, os.cpu_count() or 1))

    def __repr__(self) -> str:
        return f"ClipEncoder({self.model_name!r}, revision={self._requested_revision!r})"

    # --- identity -------------------------------------------------------------------------

    @property
    def revision(self) -> str:
        """The pinned commit, or for a local directory a content hash of its files."""
        if self._revision is None:
            if self._local_dir is not None:
                with self._lock:
                    if self._revision is None:
                        self._revision = directory_content_hash(self._local_dir)
            else:
                self.load()  # a branch or tag name resolves to a commit once loaded
        assert self._revision is not None
        return self._revision

    @property
    def model_key(self) -> str:
        """Short, collection-name safe: the model's name slug and 8 characters of its revision."""
        name = self._local_dir.name if self._local_dir is not None else self.model_name
        return f"{_slug(name.rsplit('/', 1)[-1])}-{self.revision[:8]}"

    @property
    def dim(self) -> int:
        self.load()
        return self._dim

    @property
    def loaded(self) -> bool:
        return self._model is not None

    # --- loading --------------------------------------------------------------------------

    def load(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            # A model that could not be found is not looked for again on every request: a
            # search or an upload would otherwise pay a hub round trip each time.
            if (
                self._failure is not None
                and time.monotonic() - self._failed_at < _RETRY_FAILED_LOAD_SECONDS
            ):
                raise self._failure
            started = time.monotonic()
            try:
                with MODEL_LOAD_LOCK:
                    self._load_locked()
            except ModelUnavailable as exc:
                self._failure, self._failed_at = exc, time.monotonic()
                raise
            self._failure = None
            from config.metrics import MODEL_LOAD_SECONDS

            MODEL_LOAD_SECONDS.labels(model=self.model_name).observe(time.monotonic() - started)

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
        # Dynamic int8 quantisation is a CPU technique: with "auto" it keeps the model there.
        auto_cpu = self.quantize_int8 and self.device_setting == "auto"
        self.device = "cpu" if auto_cpu else _resolve_device(self.device_setting)
        if self.device != "cpu":
            # A GPU outruns a few decoding threads by far (bench/gpu_embedding.py): give
            # JPEG decoding and resizing every core, since the GPU does the model's work.
            self._prefetch_workers = max(self._prefetch_workers, os.cpu_count() or 1)
        if self.device != "cpu":
            if self.quantize_int8:
                raise ModelUnavailable(
                    "CLIP_QUANTIZE_INT8 is a CPU mode: turn it off for CLIP_DEVICE=cuda."
                )
            model = model.to(self.device)
        if self.quantize_int8:
            from torch.ao.quantization import quantize_dynamic

            with warnings.catch_warnings():
                # torch marks eager dynamic quantisation deprecated; it is still the one CPU path
                # that needs no extra package.
                warnings.simplefilter("ignore")
                model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
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
        if not self._dim:  # a config without projection_dim: ask the model
            with torch.inference_mode():
                probe = torch.from_numpy(self._blank_pixels()[None])
                self._dim = int(_features(model.get_image_features(pixel_values=probe)).shape[-1])
        self._model = model  # last: its presence means "loaded" to other threads
        logger.info(
            "Loaded CLIP model %s (revision %s, dim %s, int8 %s)",
            self.model_name,
            self._revision,
            self._dim,
            self.quantize_int8,
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
        if _looks_like_path(self.model_name):
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
        if not _offline() and _hub_has(self.model_name, revision):
            try:
                return _load_parts(self.model_name, revision, False)
            except Exception:  # noqa: BLE001 - network, auth, disk: all mean "unavailable" here
                logger.debug("Downloading %s@%s failed", self.model_name, revision, exc_info=True)
        reason = (
            "and HF_HUB_OFFLINE forbids downloading it"
            if _offline()
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

    def _embed_pixels(self, arrays: Sequence[np.ndarray], batch_size: int = 0) -> np.ndarray:
        import torch

        size = batch_size or self.batch_size
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(arrays), size):
                chunk = torch.from_numpy(np.stack(arrays[start : start + size])).to(self.device)
                features = _features(self._model.get_image_features(pixel_values=chunk))
                outputs.append(
                    torch.nn.functional.normalize(features.float(), dim=-1).cpu().numpy()
                )
        if not outputs:
            return np.empty((0, self._dim), dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(outputs), dtype=np.float32)

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
        """One shopper query as a unit vector, the same as ``encode_texts([text])[0]``; on the
        CPU it runs on a checked TorchScript trace of the text tower (search/query_trace.py).
        Not for the int8 model: a trace of its dynamically quantised layers drifts from them."""
        self.load()
        traceable = self.device == "cpu" and not self.quantize_int8
        traced = self._query_trace.get() if traceable else None
        return unit(traced(text)) if traced is not None else self._embed(text)

    def _embed(self, text: str) -> np.ndarray:
        return self.encode_texts([text])[0]

    def _tokens(self, text: str) -> Any:
        with self._tokenizer_lock:
            return self._tokenizer(
                [text], truncation=True, max_length=self._text_max_length, return_tensors="pt"
            )

    def _trace(self) -> Callable[[str], np.ndarray]:
        import torch

        model = self._model

        class _TextTower(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask):
                return _features(
                    self.model.get_text_features(input_ids=input_ids, attention_mask=attention_mask)
                )

        example = self._tokens(PROBES[1])
        module = trace(_TextTower(), [example["input_ids"], example["attention_mask"]])

        def embed(text: str) -> np.ndarray:
            tokens = self._tokens(text)
            with torch.inference_mode():
                vector = module(tokens["input_ids"], tokens["attention_mask"])
            return vector[0].float().numpy()

        return embed

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) unit vectors; texts longer than the model's context are truncated."""
        import torch

        self.load()
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                with self._tokenizer_lock:
                    tokens = self._tokenizer(
                        list(texts[start : start + self.batch_size]),
                        padding=True,
                        truncation=True,
                        max_length=self._text_max_length,
                        return_tensors="pt",
                    )
                features = _features(
                    self._model.get_text_features(
                        input_ids=tokens["input_ids"].to(self.device),
                        attention_mask=tokens["attention_mask"].to(self.device),
                    )
                )
                outputs.append(
                    torch.nn.functional.normalize(features.float(), dim=-1).cpu().numpy()
                )
        if not outputs:
            return np.empty((0, self._dim), dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(outputs), dtype=np.float32)


_registry_lock = threading.Lock()
_clip_encoder: tuple[tuple[Any, ...], ClipEncoder] | None = None


def get_clip_encoder() -> ClipEncoder:
    """The process's CLIP encoder, built from settings (loaded on first use)."""
    global _clip_encoder
    from django.conf import settings

    key = (
        settings.CLIP_MODEL,
        settings.CLIP_MODEL_REVISION,
        settings.CLIP_QUANTIZE_INT8,
        settings.TORCH_THREADS,
        settings.EMBED_BATCH_SIZE,
        settings.CLIP_DEVICE,
    )
    with _registry_lock:
        if _clip_encoder is None or _clip_encoder[0] != key:
            encoder = ClipEncoder(
                settings.CLIP_MODEL,
                settings.CLIP_MODEL_REVISION or None,
                quantize_int8=settings.CLIP_QUANTIZE_INT8,
                threads=settings.TORCH_THREADS,
                batch_size=settings.EMBED_BATCH_SIZE,
                device=settings.CLIP_DEVICE,
            )
            _clip_encoder = (key, encoder)
        return _clip_encoder[1]


def reset_encoders() -> None:
    """Forget the process's encoders (tests; a settings change)."""
    global _clip_encoder
    with _registry_lock:
        _clip_encoder = None
    from search import text_encoder

    text_encoder.reset_text_encoder()
