"""The rules step of a search: hooks that another app fills, that search runs.

Search owns the order of its pipeline; apps above it (merchandising) register here in their
``AppConfig.ready`` and are called at two points:

- **word expanders**, after query understanding and before encoding: given the words and the
  filter, return extra words for the keyword and product-text legs (synonyms). CLIP's words are
  left as typed.
- **rankers**, after fusion (and after exact identifiers are put first) and before the page is
  cut, the optional VLM re-rank and hydration: given the query and the whole fused ranking,
  return the new ranking (re-ordered, shortened or lengthened: pins, boosts, hides).

A search without words (a photo, more-like-this) runs rankers too. Such a search is one leg
and would fetch just the page; a ranker registered with a ``wants`` predicate says, cheaply,
whether it has anything for this query, and only then does the search fetch the deeper fused
ranking the ranker needs (``rankers_wanted``): a shop without wordless rules pays nothing.

Each hook also returns the rules it applied, which the response lists (``rules``). A query with
``rules=False`` (the admin's preview, evaluation) runs no hook. Search imports nothing of the
apps that register: they depend on search, never the other way (pyproject's import contracts).
"""

from collections.abc import Callable
from dataclasses import dataclass

from search.query.types import ResultItem, SearchQuery
from search.vector_index.base import SearchFilter


@dataclass(frozen=True)
class AppliedRule:
    """A rule that changed a search, as the response names it."""

    id: str
    kind: str
    name: str


WordExpander = Callable[[str, SearchFilter], tuple[tuple[str, ...], list[AppliedRule]]]
Ranker = Callable[[SearchQuery, list[ResultItem]], tuple[list[ResultItem], list[AppliedRule]]]

_expanders: dict[str, WordExpander] = {}
Wants = Callable[[SearchQuery], bool]

_rankers: dict[str, Ranker] = {}
_wants: dict[str, Wants] = {}


def register_word_expander(name: str, expander: WordExpander) -> None:
    """Add (or replace, by name: ``ready`` may run twice in tests) a word expander."""
    _expanders[name] = expander


def register_ranker(name: str, ranker: Ranker, wants: Wants | None = None) -> None:
    """Add (or replace, by name) a post-fusion ranker; rankers run in registration order.

    ``wants(query)``: whether the ranker may change this query's ranking (None: always).
    """
    _rankers[name] = ranker
    _wants[name] = wants or (lambda query: True)


def rankers_wanted(query: SearchQuery) -> bool:
    """Whether any ranker may change this query's ranking (a one-leg search asks, to know if
    it must fetch the fused depth instead of the page)."""
    return query.rules and any(wants(query) for wants in _wants.values())


def expand_words(
    text: str, search_filter: SearchFilter
) -> tuple[tuple[str, ...], list[AppliedRule]]:
    words: tuple[str, ...] = ()
    applied: list[AppliedRule] = []
    for expander in _expanders.values():
        more, rules = expander(text, search_filter)
        words += more
        applied += rules
    return words, applied


def apply_rankers(
    query: SearchQuery, ranked: list[ResultItem]
) -> tuple[list[ResultItem], list[AppliedRule]]:
    applied: list[AppliedRule] = []
    for ranker in _rankers.values():
        ranked, rules = ranker(query, ranked)
        applied += rules
    return ranked, applied
