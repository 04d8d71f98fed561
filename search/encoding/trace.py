"""TorchScript traces of the models' text-query paths.

A shopper's query is one short text: a forward pass over a handful of tokens is mostly
Python overhead, and while Python runs it holds the GIL, so CLIP, MiniLM and the vector-store
calls of one search take turns instead of overlapping. A traced module runs its whole graph
in C++ without the GIL: faster alone (MiniLM 17 -> 12 ms on one core), and it lets the
other legs of the same search proceed beside it (bench/search.md).

A trace replays the branches its example took, so it is used only after it agrees with the
model itself on probe queries of other lengths, one past the model's window included; if
tracing or the check fails, queries go on through the model and the log says why.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from search.encoding.base import MODEL_LOAD_LOCK
from search.encoding.vectors import unit

logger = logging.getLogger(__name__)

PROBES = (
    "kettle",
    "crimson coat made of leather with a quilted lining",
    "linen summer dress with pockets " * 80,
)
AGREEMENT = 0.9999  # cosine between the trace's vector and the model's, on every probe

Embed = Callable[[str], np.ndarray]


class QueryTrace:
    """Builds, checks and keeps the traced query path of one model, on first use.

    ``build()`` traces the model and returns a function from a text to its vector;
    ``reference(text)`` is the model's own unit vector for the text.
    """

    def __init__(self, name: str, build: Callable[[], Embed], reference: Embed) -> None:
        self._name = name
        self._build = build
        self._reference = reference
        self._lock = threading.Lock()
        self._state: tuple[Embed | None] | None = None  # (embed or None,) once tried

    def get(self) -> Embed | None:
        if self._state is None:
            with self._lock:
                if self._state is None:
                    self._state = (self._checked(),)
        return self._state[0]

    def _checked(self) -> Embed | None:
        try:
            with quiet_tracing():
                embed = self._build()
            for probe in PROBES:
                agreement = float(unit(embed(probe)) @ self._reference(probe))
                if agreement < AGREEMENT:
                    raise ValueError(f"the trace disagrees with the model ({agreement:.5f})")
        except Exception as exc:  # noqa: BLE001 - whatever fails, the model itself still works
            logger.warning("%s encodes queries without TorchScript: %s", self._name, exc)
            return None
        return embed


def trace(module, example: Sequence) -> Any:
    """``torch.jit.trace`` for inference: no grad, tolerant of dict outputs, no re-run check
    (QueryTrace checks the result against the model instead)."""
    import torch

    with torch.inference_mode():
        return torch.jit.trace(module.eval(), tuple(example), strict=False, check_trace=False)


@contextlib.contextmanager
def quiet_tracing() -> Iterator[None]:
    """The tracer walks every attribute and branch of a model once: its warnings about
    Python-side branches, and the deprecation notices it trips in the libraries, are noise
    here (the trace is checked against the model afterwards)."""
    chatty = [logging.getLogger(name) for name in ("sentence_transformers", "transformers")]
    # warnings.catch_warnings swaps the process-wide filter list: two traces built at once (CLIP
    # and MiniLM, in a search's two threads) would restore each other's filters mid-trace. A
    # trace runs the model's Python code, which may import lazily, so it also waits for loads.
    with MODEL_LOAD_LOCK, warnings.catch_warnings():
        levels = [log.level for log in chatty]
        warnings.simplefilter("ignore")
        for log in chatty:
            log.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for log, level in zip(chatty, levels, strict=True):
                log.setLevel(level)
