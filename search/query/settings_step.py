"""The settings step of a search: hooks that adjust a request before it runs.

A layer above search (merchandising: the shop's default search settings and A/B experiments)
registers an adjuster in its ``AppConfig.ready``. The API calls ``adjust`` with the validated
query and the visitor's id before the search runs; an adjuster may return another query (leg
weights, RRF k, rules on/off, the image collection), force re-ranking on or off, and name the
experiment variant the search ran under, which the response and the recorded search carry.

Adjusters run in registration order, each on the previous one's query. Search imports nothing
of the apps that register (pyproject's import contracts), as for rules_step.py.
"""

from collections.abc import Callable
from dataclasses import dataclass

from search.query.types import SearchQuery


@dataclass(frozen=True)
class ExperimentTag:
    """The experiment and variant a search ran under."""

    experiment_id: int
    experiment: str
    variant: str


@dataclass(frozen=True)
class Adjustment:
    query: SearchQuery
    rerank: bool | None = None  # None: as the request asked
    experiment: ExperimentTag | None = None


QueryAdjuster = Callable[[Adjustment, str], Adjustment]

_adjusters: dict[str, QueryAdjuster] = {}


def register_query_adjuster(name: str, adjuster: QueryAdjuster) -> None:
    """Add (or replace, by name: ``ready`` may run twice in tests) a query adjuster."""
    _adjusters[name] = adjuster


def adjust(query: SearchQuery, visitor_id: str) -> Adjustment:
    adjustment = Adjustment(query=query)
    for adjuster in _adjusters.values():
        adjustment = adjuster(adjustment, visitor_id)
    return adjustment
