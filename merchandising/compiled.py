"""Rules compiled for search time: lookups by what a search asks (see engine.py).

Everything a search can work out once is worked out here, when the rules are (re)loaded:
rules are indexed by exact query, by words and by category filter, so a search reads only the
few that could match it, never the whole list; synonym terms are stored under the phrase a
query's words form; and the boost/bury sums a set of matched rules gives each product are
memoised on the rule set (``effects``), so a search with the same live rules as an earlier one
(most searches: shop-wide "any query" rules match them all) pays a dictionary read per
product. bench/rules.py measures it with 1,000 rules.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from django.utils import timezone

from merchandising.models import Rule
from merchandising.selectors import RankFacts
from merchandising.text import exact_key, split_terms, words, words_key
from search.query.rules_step import AppliedRule
from search.vector_index.base import SearchFilter

_PROMOTING = {"synonym", "pin", "boost", "click_model"}
_MAX_MEMO = 4_096  # matched-rule sets remembered; past it the memo starts again
_FOREVER = (
    datetime.min.replace(tzinfo=UTC),
    datetime.max.replace(tzinfo=UTC),
)


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
    expansions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # synonyms, by term
    # Synonyms by the phrase (text.words, joined) a query's words must form: the targets.
    phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)

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
    # The latest click-model fit: query words key -> product id -> boost 0..1.
    click_boosts: dict[str, dict[int, float]] = field(default_factory=dict)
    # Boost/bury effects by the ids of the matched rules (engine.py; reset past _MAX_MEMO).
    effects: dict[tuple[int, ...], Effects] = field(default_factory=dict)
    # Every instant a rule's time window opens or closes, sorted (set by compile_rules).
    boundaries: list[datetime] = field(default_factory=list)
    _matched: dict[tuple, list[CompiledRule]] = field(default_factory=dict)
    _valid: tuple[datetime, datetime] = (_FOREVER[1], _FOREVER[1])

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
        """The live, in-scope rules for a search (a shared list: do not change it).

        Remembered per (words, categories, merchant) until the next instant a rule's time
        window opens or closes: between those, the answer cannot change.
        """
        now = timezone.now()
        if not (self._valid[0] <= now < self._valid[1]) or len(self._matched) >= _MAX_MEMO:
            self._matched.clear()
            self._valid = _window_around(now, self.boundaries)
        key = (text, search_filter.categories, search_filter.merchant)
        found = self._matched.get(key)
        if found is None:
            candidates = [*self.any_query]
            if text:
                candidates += self.by_exact.get(exact_key(text), ())
                candidates += self.by_words.get(words_key(text), ())
            for category in search_filter.categories:
                candidates += self.by_category.get(category.lower(), ())
            found = self._matched[key] = [
                rule for rule in candidates if rule.live(now) and rule.in_scope(search_filter)
            ]
        return found

    def effects_for(self, boosts: list[CompiledRule], buries: list[CompiledRule]) -> Effects:
        key = tuple(rule.id for rule in boosts) + (0,) + tuple(rule.id for rule in buries)
        found = self.effects.get(key)
        if found is None:
            if len(self.effects) >= _MAX_MEMO:
                self.effects.clear()
            found = self.effects[key] = Effects.of(boosts, buries)
        return found


@dataclass
class Effect:
    """The rules of one boost/bury key summed: what a product that matches it gets."""

    weight: float = 0.0
    rule_ids: list[str] = field(default_factory=list)
    rules: list[AppliedRule] = field(default_factory=list)


@dataclass(frozen=True)
class ProductEffect:
    """What one product gets from a set of boost/bury rules, for the facts it was worked out
    from (a product edit makes new facts, and so a new entry)."""

    facts: RankFacts
    weight: float
    rule_ids: tuple[str, ...]
    effects: tuple[Effect, ...]


_NONE: tuple = ()


def _window_around(now: datetime, boundaries: list[datetime]) -> tuple[datetime, datetime]:
    """The span around ``now`` in which no rule starts or ends."""
    at = bisect.bisect_right(boundaries, now)
    return (
        boundaries[at - 1] if at else _FOREVER[0],
        boundaries[at] if at < len(boundaries) else _FOREVER[1],
    )


@dataclass
class Effects:
    """Boost and bury rules summed by what they read (and whose products they may move), and
    the sum each product gets, remembered per product."""

    by_key: dict[tuple, Effect]
    prices: list[tuple[tuple, Effect]]
    products: dict[int, ProductEffect] = field(default_factory=dict)
    # One tuple per distinct combination of effects, shared by the products that match it,
    # so a search lists the applied rules once per combination, not once per product.
    combinations: dict[tuple[int, ...], tuple[Effect, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, boosts: list[CompiledRule], buries: list[CompiledRule]) -> Effects:
        by_key: dict[tuple, Effect] = defaultdict(Effect)
        for rules, sign in ((boosts, 1.0), (buries, -1.0)):
            for rule in rules:
                if rule.attribute == "price":
                    key: tuple = ("price", rule.price_min, rule.price_max, rule.merchant_id)
                else:
                    key = (rule.attribute, rule.value, rule.merchant_id)
                effect = by_key[key]
                effect.weight += sign * rule.weight
                effect.rule_ids.append(str(rule.id))
                effect.rules.append(rule.applied)
        prices = [(key, effect) for key, effect in by_key.items() if key[0] == "price"]
        return cls(by_key=dict(by_key), prices=prices)

    def for_product(self, product_id: int, product: RankFacts) -> ProductEffect:
        known = self.products.get(product_id)
        if known is not None and known.facts is product:
            return known
        if len(self.products) >= _MAX_MEMO * 16:
            self.products.clear()
        matched: list[Effect] = []
        for owner in (None, product.merchant_id):  # shop-wide rules, the product's merchant's
            for key in (
                ("brand", product.brand, owner),
                ("category", product.category, owner),
                ("merchant", product.merchant_slug, owner),
                *(("tag", tag, owner) for tag in product.tags),
                *((("in_stock", "", owner),) if product.in_stock else ()),
            ):
                found = self.by_key.get(key)
                if found is not None:
                    matched.append(found)
        for (_, low, high, owner), effect in self.prices:
            if owner in (None, product.merchant_id) and _in_range(low, high, product.price):
                matched.append(effect)
        shared = self.combinations.setdefault(
            tuple(id(effect) for effect in matched), tuple(matched)
        )
        known = self.products[product_id] = ProductEffect(
            facts=product,
            weight=sum(effect.weight for effect in matched),
            rule_ids=tuple(rule_id for effect in matched for rule_id in effect.rule_ids)
            if matched
            else _NONE,
            effects=shared,
        )
        return known


def _in_range(low: float | None, high: float | None, price: float) -> bool:
    return (low is None or price >= low) and (high is None or price <= high)


def compile_rules(rows, click_boosts: dict[str, dict[int, float]] | None = None) -> RuleSet:
    rules = RuleSet(click_boosts=click_boosts or {})
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
            for term, targets in compiled.expansions.items():
                phrase = " ".join(words(term))
                compiled.phrases[phrase] = compiled.phrases.get(phrase, ()) + targets
            for phrase in compiled.phrases:
                rules.synonyms[phrase].append(compiled)
        elif row.query.strip() and row.match == Rule.Match.EXACT:
            rules.by_exact[exact_key(row.query)].append(compiled)
        elif row.query.strip() and row.match == Rule.Match.WORDS:
            rules.by_words[words_key(row.query)].append(compiled)
        elif row.filter_category:
            rules.by_category[row.filter_category.lower()].append(compiled)
        else:
            rules.any_query.append(compiled)
        rules.boundaries += [edge for edge in (row.starts_at, row.ends_at) if edge is not None]
    rules.boundaries.sort()
    return rules
