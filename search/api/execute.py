"""Runs a validated query for an API view: throttled re-ranking, errors as 4xx/503, metrics."""

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import ServiceUnavailable
from config.metrics import SEARCH_STAGE_SECONDS, SEARCHES
from search.api.serializers import render_outcome
from search.api.throttles import RerankThrottle
from search.encoding.base import ModelUnavailable
from search.query.recording import FinishedSearch, announce, visitor_id_from
from search.query.rerank_step import rerank_outcome
from search.query.service import search
from search.query.settings_step import adjust
from search.query.types import SearchInputError, SearchQuery
from search.vector_index.base import VectorStoreUnavailable

logger = logging.getLogger(__name__)


@contextmanager
def search_errors(unavailable: str = "Photo search") -> Iterator[None]:
    """A search's failures as the API answers them: 400 naming the field, or 503 saying what
    is missing (``unavailable`` names the feature a missing model switches off)."""
    try:
        yield
    except SearchInputError as exc:
        raise ValidationError({exc.field: str(exc)}) from None
    except VectorStoreUnavailable as exc:
        logger.warning("vector store unavailable: %s", exc)
        raise ServiceUnavailable(
            "The search index is not answering right now; try again shortly."
        ) from None
    except ModelUnavailable as exc:
        raise ServiceUnavailable(f"{unavailable} is not available on this server: {exc}") from None


def record_stages(query_type: str, stages: dict[str, float]) -> None:
    SEARCHES.labels(query_type=query_type).inc()
    for stage, milliseconds in stages.items():
        SEARCH_STAGE_SECONDS.labels(stage=stage).observe(milliseconds / 1000)


def run_search(
    query: SearchQuery,
    *,
    rerank: bool,
    request: Request,
    view,
    decode_ms: float | None = None,
) -> Response:
    visitor_id = visitor_id_from(request.headers)
    # The shop's search settings and an experiment's variant (settings_step.py).
    adjusted = adjust(query, visitor_id)
    query = adjusted.query
    if rerank and adjusted.rerank is None and not RerankThrottle().allow_request(request, view):
        raise Throttled(
            detail="Too many re-ranked searches; try again shortly or search without rerank."
        )
    if adjusted.rerank is not None:
        rerank = adjusted.rerank
    with search_errors():
        outcome = search(query)
        if rerank:
            rerank_outcome(query, outcome)
        else:
            outcome.rerank_reason = "not requested"
    if decode_ms is not None:
        outcome.stages = {"decode": round(decode_ms, 3), **outcome.stages}
    record_stages(outcome.query_type, outcome.stages)
    search_id = uuid.uuid4()
    tag = adjusted.experiment
    announce(
        FinishedSearch(
            search_id=search_id,
            query=query,
            kind=outcome.query_type,
            outcomes=(outcome,),
            took_ms=outcome.took_ms,
            visitor_id=visitor_id,
            experiment_id=tag.experiment_id if tag else None,
            variant=tag.variant if tag else "",
        )
    )
    body = render_outcome(outcome, limit=query.limit, offset=query.offset)
    experiment = (
        {"id": tag.experiment_id, "name": tag.experiment, "variant": tag.variant} if tag else None
    )
    return Response({"search_id": str(search_id), **body, "experiment": experiment})
