"""The re-rank step of a search: the vector search's best few, re-ordered by a VLM in budget.

Cheap vector search finds the candidates; the VLM only re-orders the first ``top_n``. The
step never makes a search fail or wait past its budget: candidates the model did not score
in time (or at all) keep their vector-search place, and when nothing came back the order is
the vector search's, with the reason.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.cache import cache

from .base import (
    PROMPT_VERSION,
    SCORE_MAX,
    SCORE_MIN,
    RerankCandidate,
    Reranker,
    RerankInvalidReply,
    RerankQuery,
    RerankTimeout,
    Scored,
    shrink,
)
from .local_vlm import LocalVLMReranker
from .openai_compat import OpenAICompatibleReranker

logger = logging.getLogger(__name__)

# Extra time granted to a re-ranker to hand back what it has once its deadline is reached;
# the built-in ones stop waiting at the deadline themselves.
HANDOVER_SECONDS = 0.05
DEFAULT_CACHE_SECONDS = 3600


@dataclass(frozen=True)
class RerankOutcome:
    # A permutation of range(len(top-N)): order[k] is the index (in the candidates given) of
    # the item to show k-th. Candidates past the top N are not in it; they follow unchanged.
    order: list[int]
    reranked: bool
    model: str | None
    # Why nothing was re-ranked, or why some candidates kept their place (a partial result).
    reason: str | None
    # scores[i] is candidate i's score (0..10), None where it has none; same length as order.
    scores: list[float | None]


def rerank(
    query: RerankQuery,
    candidates: Sequence[RerankCandidate],
    *,
    reranker: Reranker | None = None,
    top_n: int | None = None,
    budget_ms: int | None = None,
) -> RerankOutcome:
    started = time.monotonic()
    budget_ms = settings.RERANK_TIMEOUT_MS if budget_ms is None else budget_ms
    deadline = started + max(0, budget_ms) / 1000
    top_n = settings.RERANK_TOP_N if top_n is None else top_n
    head = list(candidates[: max(0, top_n)])

    if reranker is None:
        if not settings.RERANK_ENABLED:
            return _unchanged(len(head), None, "disabled")
        reranker = get_reranker()
        if reranker is None:
            return _unchanged(len(head), None, "not configured")
    if not head:
        return _unchanged(0, reranker.model, "no candidates")

    keys = [_cache_key(query, candidate, reranker.model) for candidate in head]
    cached = _cache_get(keys)
    results: list[Scored | None] = [Scored(cached[key]) if key in cached else None for key in keys]
    todo = [index for index, result in enumerate(results) if result is None]
    if todo:
        fresh = _score_in_time(reranker, query, [head[index] for index in todo], deadline)
        for index, result in zip(todo, fresh, strict=True):
            results[index] = result
        _cache_set(
            {keys[i]: r.score for i, r in zip(todo, fresh, strict=True) if r.score is not None}
        )

    scores = [result.score for result in results if result is not None]
    errors = [result.error or "no score" for result in results if result and result.score is None]
    reason = "; ".join(dict.fromkeys(errors)) or None
    reranked = any(score is not None for score in scores)
    if reason:
        logger.info(
            "re-rank with %s: %d of %d unscored (%s) in %.0f ms",
            reranker.model,
            len(errors),
            len(head),
            reason,
            (time.monotonic() - started) * 1000,
        )
    return RerankOutcome(
        order=_order(scores), reranked=reranked, model=reranker.model, reason=reason, scores=scores
    )


def _unchanged(count: int, model: str | None, reason: str) -> RerankOutcome:
    return RerankOutcome(
        order=list(range(count)), reranked=False, model=model, reason=reason, scores=[None] * count
    )


def _order(scores: list[float | None]) -> list[int]:
    """Scored candidates by score, ties by vector rank; unscored ones hold their place.

    An unscored candidate says nothing about relevance, so it is neither promoted nor
    demoted: the scored ones are re-ordered among the positions they already occupied.
    """
    slots = [index for index, score in enumerate(scores) if score is not None]
    by_score = sorted(slots, key=lambda index: (-(scores[index] or 0.0), index))
    order = list(range(len(scores)))
    for slot, index in zip(slots, by_score, strict=True):
        order[slot] = index
    return order


def _score_in_time(
    reranker: Reranker,
    query: RerankQuery,
    candidates: list[RerankCandidate],
    deadline: float,
) -> list[Scored]:
    """Run the re-ranker in a thread and take what it has by the deadline.

    The thread is a daemon: a back end that overruns (a model still loading, a stuck call)
    finishes, or not, on its own while the search answers.
    """
    if query.image is not None:
        # A private, loaded, small copy: threads that outlive this call never touch the
        # caller's image. Still only in memory.
        query = replace(query, image=shrink(query.image))
    box: dict[str, list[Scored]] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["results"] = reranker.score_all(query, candidates, deadline=deadline)
        except Exception:  # a broken back end costs the re-rank, never the search
            logger.exception("re-ranker %s failed", reranker.model)
            box["results"] = [Scored(None, "error")] * len(candidates)
        finally:
            done.set()

    threading.Thread(target=work, name="rerank", daemon=True).start()
    if not done.wait(timeout=max(0.0, deadline - time.monotonic()) + HANDOVER_SECONDS):
        return [Scored(None, RerankTimeout.reason)] * len(candidates)
    results = box["results"]
    if len(results) != len(candidates):
        logger.error(
            "re-ranker %s returned %d results for %d", reranker.model, len(results), len(candidates)
        )
        return [Scored(None, "error")] * len(candidates)
    return [_checked(result) for result in results]


def _checked(result: Scored) -> Scored:
    """Guard against back ends (third-party ones included) that return scores off the scale."""
    score = result.score
    if score is None:
        return result
    if (
        isinstance(score, bool)
        or not isinstance(score, int | float)
        or not math.isfinite(score)
        or not SCORE_MIN <= score <= SCORE_MAX
    ):
        return Scored(None, RerankInvalidReply.reason)
    return Scored(float(score))


# --- cache: the same query again costs no model call


def _cache_key(query: RerankQuery, candidate: RerankCandidate, model: str) -> str:
    parts = (PROMPT_VERSION, model, query.fingerprint, str(candidate.image_id))
    return "rerank:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _cache_get(keys: list[str]) -> dict[str, float]:
    try:
        return cache.get_many(keys)
    except Exception:  # a cache outage makes re-ranking slower, not broken
        logger.warning("re-rank cache unavailable", exc_info=True)
        return {}


def _cache_set(values: dict[str, float]) -> None:
    if not values:
        return
    try:
        cache.set_many(
            values, timeout=getattr(settings, "RERANK_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
        )
    except Exception:
        logger.warning("re-rank cache unavailable", exc_info=True)


# --- the configured back end, one per process


_instances: dict[tuple[str, ...], Reranker] = {}
_instances_lock = threading.Lock()


def get_reranker() -> Reranker | None:
    """The re-ranker the settings describe, or None when none is configured.

    One instance per configuration per process: the HTTP back end keeps its connection
    pool, the local one loads its model once (lazily, on first use).
    """
    key: tuple[str, ...]
    if settings.RERANK_API_BASE:
        if not settings.RERANK_MODEL:
            logger.warning("RERANK_API_BASE is set but RERANK_MODEL is not; re-ranking is off")
            return None
        key = ("openai", settings.RERANK_API_BASE, settings.RERANK_MODEL, settings.RERANK_API_KEY)
    elif settings.RERANK_LOCAL_MODEL:
        revision = getattr(settings, "RERANK_LOCAL_MODEL_REVISION", "") or ""
        key = ("local", settings.RERANK_LOCAL_MODEL, revision)
    else:
        return None
    with _instances_lock:
        instance = _instances.get(key)
        if instance is None:
            instance = _instances[key] = _build(key)
    return instance


def _build(key: tuple[str, ...]) -> Reranker:
    if key[0] == "openai":
        _, api_base, model, api_key = key
        return OpenAICompatibleReranker(api_base, model, api_key or None)
    _, source, revision = key
    return LocalVLMReranker(source, revision=revision or None)
