"""What every model of the search app shares: lazy, locked, remembered-failure loading and an
identity (name and revision) recorded beside every vector it makes.

Like Immich's ``InferenceModel``: one object per model and process, the weights loaded on
first use under a lock, a failed load remembered for a while so that requests do not pay a
hub round trip each time.

One model loads at a time in a process. transformers resolves most of its names lazily:
``from transformers import X`` and ``from_pretrained`` import submodules on first use. Two
threads doing that at once can find a module half imported: a search that loaded CLIP while
the web worker's warm-up thread loaded the text model failed with "cannot import name
'AutoImageProcessor' from 'transformers'" (seen in bench/search.py; reproduced with the text
model loading 1.5 s before CLIP). Loads take seconds and happen once per process, so they
simply take turns on ``MODEL_LOAD_LOCK``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from search.encoding.hub import directory_content_hash, slug

# Re-entrant: a loader that loads another model on the way (none does today) cannot deadlock.
MODEL_LOAD_LOCK = threading.RLock()

RETRY_FAILED_LOAD_SECONDS = 60.0


class ModelUnavailable(RuntimeError):
    """The configured model's weights cannot be found or are not the kind of model expected."""


class InferenceModel:
    """A model loaded once per process; subclasses implement ``_load_locked``.

    ``revision`` is the pinned commit of a hub model, or for a local directory a content hash
    of its files; ``model_key`` (name slug and 8 characters of the revision) names the
    collections and point ids its vectors go to.
    """

    def __init__(self, model_name: str, local_dir: Path | None) -> None:
        self.model_name = model_name
        self._local_dir = local_dir
        self._revision: str | None = None
        self._lock = threading.Lock()
        self._model: Any = None
        self._dim = 0
        self._failure: ModelUnavailable | None = None
        self._failed_at = 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model_name!r})"

    # --- identity ---------------------------------------------------------------------------

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
        return f"{slug(self._key_name().rsplit('/', 1)[-1])}-{self.revision[:8]}"

    def _key_name(self) -> str:
        return self.model_name

    @property
    def dim(self) -> int:
        self.load()
        return self._dim

    @property
    def loaded(self) -> bool:
        return self._model is not None

    # --- loading ----------------------------------------------------------------------------

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
                and time.monotonic() - self._failed_at < RETRY_FAILED_LOAD_SECONDS
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
        """Load the weights; set ``_model`` last (its presence means "loaded"), ``_dim`` and,
        unless the model is a directory, ``_revision``. Raise ModelUnavailable on failure."""
        raise NotImplementedError
