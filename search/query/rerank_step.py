"""The optional re-ranking step of a search: a vision-language model re-orders the top results."""

import time

from django.conf import settings

from catalog import selectors as catalog_selectors
from search.query.types import ResultItem, SearchOutcome, SearchQuery
from search.rerankers import get_reranker
from search.rerankers.base import RerankCandidate, RerankQuery
from search.rerankers.cascade import rerank


def _candidate(item: ResultItem) -> RerankCandidate | None:
    name = item.thumbnail_file or item.image_file
    if not name and item.product is not None:
        name = getattr(item.product, "first_image_thumb", None) or getattr(
            item.product, "first_image_file", None
        )
    if not name or item.image_id is None:
        return None
    return RerankCandidate(
        image_id=item.image_id,
        title=item.product.title if item.product else "",
        load_image=catalog_selectors.image_file_reader(name=name),
    )


def rerank_outcome(query: SearchQuery, outcome: SearchOutcome) -> None:
    """Re-order the first page's top results in place; say why when it did not happen."""
    if not settings.RERANK_ENABLED:
        outcome.rerank_reason = "re-ranking is switched off on this server (RERANK_ENABLED)"
        return
    if query.offset > 0:
        outcome.rerank_reason = "re-ranking applies to the first page only"
        return
    reranker = get_reranker()
    if reranker is None:
        outcome.rerank_reason = (
            "no re-ranking model is configured (RERANK_API_BASE or RERANK_LOCAL_MODEL)"
        )
        return
    top = outcome.items[: settings.RERANK_TOP_N]
    candidates = [_candidate(item) for item in top]
    usable = [index for index, candidate in enumerate(candidates) if candidate is not None]
    if not usable:
        outcome.rerank_reason = "no result has an image to show the model"
        return
    started = time.perf_counter()
    result = rerank(
        RerankQuery(text=query.text, image=query.image, fingerprint=_fingerprint(query)),
        [candidate for candidate in candidates if candidate is not None],
        reranker=reranker,
    )
    outcome.stages["rerank"] = round((time.perf_counter() - started) * 1000, 3)
    outcome.rerank_model = result.model
    outcome.rerank_reason = result.reason
    outcome.reranked = result.reranked
    if not result.reranked:
        return
    reordered_usable = [top[usable[position]] for position in result.order]
    # Results without an image keep their slots; the ones the model saw fill the rest in its order.
    slots = iter(reordered_usable)
    new_top = [next(slots) if index in set(usable) else item for index, item in enumerate(top)]
    for item in reordered_usable:
        item.reranked_by = result.model
    outcome.items[: len(top)] = new_top


def _fingerprint(query: SearchQuery) -> str:
    return (
        f"{query.text or ''}|{query.negative or ''}|{query.image_fingerprint}|{query.text_weight}"
    )
