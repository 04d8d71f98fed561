"""Rules compiled for search time: lookups by what a search asks (see engine.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from django.utils import timezone

from merchandising.models import Rule
from merchandising.text import exact_key, split_terms, words, words_key
from search.query.rules_step import AppliedRule
from search.vector_index.base import SearchFilter

_PROMOTING = {"synonym", "pin", "boost"}


@dataclass
class CompiledRule:
    id: int
    kind: str
    name: str
    merchant_id: int | None
    merchant_slug: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    filter_category: str
    product_id: int | None
    position: int | None
    attribute: str
    value: str
    price_min: float | None
    price_max: float | None
    weight: float
    expansions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # synonyms

    @cached_property
    def applied(self) -> AppliedRule:
        return AppliedRule(id=str(self.id), kind=self.kind, name=self.name)

    def live(self, now: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= now) and (
            self.ends_at is None or now < self.ends_at
        )

    def in_scope(self, search_filter: SearchFilter) -> bool:
        promoting_elsewhere = self.kind in _PROMOTING and search_filter.merchant != (
            self.merchant_slug
        )
        if self.merchant_id is not None and promoting_elsewhere:
            return False
        if self.filter_category:
            return self.filter_category.lower() in {c.lower() for c in search_filter.categories}
        return True


@dataclass
class RuleSet:
    """Enabled rules indexed by what a search looks up."""

    by_exact: dict[str, list[CompiledRule]] = field(default_factory=lambda: defaultdict(list))
    by_words: dict[str, list[CompiledRule]] = field(default_factory=lambda: defaultdict(list))
    by_category: dict[str, list[CompiledRule]] = field(default_factory=lambda: defaultdict(list))
    any_query: list[CompiledRule] = field(default_factory=list)
    synonyms: dict[str, list[CompiledRule]] = field(default_factory=lambda: defaultdict(list))

    def __len__(self) -> int:
        lists = (
            *self.by_exact.values(),
            *self.by_words.values(),
            *self.by_category.values(),
            self.any_query,
            *self.synonyms.values(),
        )
        return len({rule.id for rules in lists for rule in rules})

    def matching(self, text: str, search_filter: SearchFilter) -> list[CompiledRule]:
        now = timezone.now()
        candidates = [*self.any_query]
        if text:
            candidates += self.by_exact.get(exact_key(text), ())
            candidates += self.by_words.get(words_key(text), ())
        for category in search_filter.categories:
            candidates += self.by_category.get(category.lower(), ())
        return [rule for rule in candidates if rule.live(now) and rule.in_scope(search_filter)]


def compile_rules(rows) -> RuleSet:
    rules = RuleSet()
    for row in rows:
        compiled = CompiledRule(
            id=row.pk,
            kind=row.kind,
            name=row.name,
            merchant_id=row.merchant_id,
            merchant_slug=row.merchant.slug if row.merchant_id else None,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            filter_category=row.filter_category,
            product_id=row.product_id,
            position=row.position,
            attribute=row.attribute,
            value=row.value.strip().lower(),
            price_min=float(row.price_min) if row.price_min is not None else None,
            price_max=float(row.price_max) if row.price_max is not None else None,
            weight=row.weight,
        )
        if row.kind == Rule.Kind.SYNONYM:
            terms = split_terms(row.terms)
            if row.synonym_type == Rule.SynonymType.ONE_WAY:
                targets = tuple(split_terms(row.synonyms))
                compiled.expansions = {term: targets for term in terms}
            else:
                compiled.expansions = {
                    term: tuple(other for other in terms if other != term) for term in terms
                }
            for term in compiled.expansions:
                rules.synonyms[" ".join(words(term))].append(compiled)
        elif row.query.strip() and row.match == Rule.Match.EXACT:
            rules.by_exact[exact_key(row.query)].append(compiled)
        elif row.query.strip() and row.match == Rule.Match.WORDS:
            rules.by_words[words_key(row.query)].append(compiled)
        elif row.filter_category:
            rules.by_category[row.filter_category.lower()].append(compiled)
        else:
            rules.any_query.append(compiled)
    return rules
