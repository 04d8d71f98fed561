"""Finished searches, announced to whoever records them.

Search knows nothing of analytics (the layers run analytics -> search): the API announces
each answered search on ``search_finished`` and the analytics app connects a receiver in its
``AppConfig.ready``. Receivers run on the request path, so they must only hand the search to
a queue; ``send_robust`` keeps a failing receiver from failing the search.
"""

import logging
import re
import uuid
from dataclasses import dataclass

from django.dispatch import Signal

from search.query.types import SearchOutcome, SearchQuery

logger = logging.getLogger(__name__)

search_finished = Signal()

# The storefront's anonymous visitor id (a random token it keeps in localStorage): anything
# else is dropped rather than stored, so the header cannot carry a name or an email address.
VISITOR_HEADER = "X-Visitor-Id"
_VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


@dataclass(frozen=True)
class FinishedSearch:
    search_id: uuid.UUID
    query: SearchQuery
    kind: str  # text, photo, hybrid, similar or look
    outcomes: tuple[SearchOutcome, ...]  # one, or one per detected item of a look
    took_ms: float
    visitor_id: str = ""
    # The A/B experiment and variant the search ran under (settings_step.py); none: 0 and "".
    experiment_id: int | None = None
    variant: str = ""


def visitor_id_from(headers) -> str:
    value = (headers.get(VISITOR_HEADER) or "").strip()
    return value if _VISITOR_ID.fullmatch(value) else ""


def announce(finished: FinishedSearch) -> None:
    for receiver, result in search_finished.send_robust(sender=FinishedSearch, search=finished):
        if isinstance(result, Exception):
            logger.warning(
                "recording search %s failed in %r: %s", finished.search_id, receiver, result
            )
