"""Rules at search time: which rules a search matches, and what they do to it.

Order, after fusion (search/query/rules_step.py) and before the optional VLM re-rank:

1. **hide**: the named product leaves the ranking.
2. **boost / bury**: a product that matches the rule's attribute gets ``± weight`` first-ranks
   of one leg added to its fused score (``weight / (SEARCH_RRF_K + 1)``, the unit the query's
   recognised-word boosts use), then the ranking is sorted again; exact identifier matches
   stay first.
3. **pin**: the named product is moved (or added, when the legs missed it but it passes the
   search's filters) to its position, counted from 1 on the whole ranking; pins are placed in
   order of position.

Synonyms run earlier, before encoding: the words they add go to the keyword and product-text
legs (CLIP reads the words as typed).

Scope: a shop-wide rule applies to every search. A merchant's rule only touches that merchant's
products; the ones that promote (synonyms, pins, boosts) apply to searches filtered to that
merchant (its own storefront), the ones that demote (buries, hides) to every search.

Rules are compiled once per process into lookups by query, so a search costs a few dictionary
reads whatever the number of rules (bench/rules.py); ``cache.py`` reloads them when any
process changes one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from merchandising.cache import current_rules
from merchandising.compiled import CompiledRule
from merchandising.facts import facts_for, passing
from merchandising.text import words
from search.query.rules_step import AppliedRule
from search.query.types import ResultItem, SearchQuery
from search.vector_index.base import SearchFilter

_MAX_PHRASE = 3  # words in the longest synonym term matched


def expand_words(
    text: str, search_filter: SearchFilter
) -> tuple[tuple[str, ...], list[AppliedRule]]:
    """Synonyms of the query's words and phrases (up to three words), for the word legs."""
    rules = current_rules()
    if not rules.synonyms:
        return (), []
    now = timezone.now()
    tokens = words(text)
    present = set(tokens)
    added: dict[str, None] = {}
    applied: dict[AppliedRule, None] = {}
    for size in range(1, _MAX_PHRASE + 1):
        for start in range(len(tokens) - size + 1):
            phrase = " ".join(tokens[start : start + size])
            for rule in rules.synonyms.get(phrase, ()):
                if not (rule.live(now) and rule.in_scope(search_filter)):
                    continue
                for term, targets in rule.expansions.items():
                    if " ".join(words(term)) != phrase:
                        continue
                    fresh = [t for t in targets if t not in present and t not in added]
                    added.update(dict.fromkeys(fresh))
                    applied[rule.applied] = None
    return tuple(added), list(applied)


def rank(
    query: SearchQuery, ranked: list[ResultItem]
) -> tuple[list[ResultItem], list[AppliedRule]]:
    rules = current_rules().matching(query.text or "", query.filter)
    if not rules:
        return ranked, []
    by_kind: dict[str, list[CompiledRule]] = defaultdict(list)
    for rule in rules:
        by_kind[rule.kind].append(rule)
    applied: list[AppliedRule] = []
    ranked = _hide(ranked, by_kind["hide"], applied)
    ranked = _boost(ranked, by_kind["boost"], by_kind["bury"], applied)
    ranked = _pin(ranked, by_kind["pin"], query.filter, applied)
    return ranked, applied


def _hide(
    ranked: list[ResultItem], rules: list[CompiledRule], applied: list[AppliedRule]
) -> list[ResultItem]:
    if not rules:
        return ranked
    hidden = {rule.product_id: rule for rule in rules}
    kept = []
    for item in ranked:
        rule = hidden.get(item.product_id)
        if rule is None:
            kept.append(item)
        else:
            applied.append(rule.applied)
    return kept


@dataclass
class _Effect:
    """The rules of one boost/bury key summed: what a product that matches it gets."""

    weight: float = 0.0
    rule_ids: list[str] = field(default_factory=list)
    rules: list[AppliedRule] = field(default_factory=list)


def _boost(
    ranked: list[ResultItem],
    boosts: list[CompiledRule],
    buries: list[CompiledRule],
    applied: list[AppliedRule],
) -> list[ResultItem]:
    if not (boosts or buries) or not ranked:
        return ranked
    # Rules summed by what they read (and whose products they may move), so a product costs a
    # few dictionary lookups whatever the number of rules (bench/rules.py).
    effects: dict[tuple, _Effect] = defaultdict(_Effect)
    for rules, sign in ((boosts, 1.0), (buries, -1.0)):
        for rule in rules:
            if rule.attribute == "price":
                key: tuple = ("price", rule.price_min, rule.price_max, rule.merchant_id)
            else:
                key = (rule.attribute, rule.value, rule.merchant_id)
            effect = effects[key]
            effect.weight += sign * rule.weight
            effect.rule_ids.append(str(rule.id))
            effect.rules.append(rule.applied)
    prices = [(key, effect) for key, effect in effects.items() if key[0] == "price"]
    facts = facts_for([item.product_id for item in ranked])
    unit = 1.0 / (settings.SEARCH_RRF_K + 1)
    used: dict[int, _Effect] = {}
    for item in ranked:
        product = facts.get(item.product_id)
        if product is None:
            continue
        matched: list[_Effect] = []
        for owner in (None, product.merchant_id):  # shop-wide rules, the product's merchant's
            for key in (
                ("brand", product.brand, owner),
                ("category", product.category, owner),
                ("merchant", product.merchant_slug, owner),
                *(("tag", tag, owner) for tag in product.tags),
                *((("in_stock", "", owner),) if product.in_stock else ()),
            ):
                found = effects.get(key)
                if found is not None:
                    matched.append(found)
        for (_, low, high, owner), effect in prices:
            if owner in (None, product.merchant_id) and _in_range(low, high, product.price):
                matched.append(effect)
        if not matched:
            continue
        item.score = round(item.score + unit * sum(effect.weight for effect in matched), 6)
        for effect in matched:
            item.rules.extend(effect.rule_ids)
            used[id(effect)] = effect
    applied += dict.fromkeys(rule for effect in used.values() for rule in effect.rules)
    return sorted(
        ranked, key=lambda item: (item.match != "identifier", -item.score, item.product_id)
    )


def _in_range(low: float | None, high: float | None, price: float) -> bool:
    return (low is None or price >= low) and (high is None or price <= high)


def _pin(
    ranked: list[ResultItem],
    rules: list[CompiledRule],
    search_filter: SearchFilter,
    applied: list[AppliedRule],
) -> list[ResultItem]:
    if not rules:
        return ranked
    rules = sorted(rules, key=lambda rule: (rule.position or 1, rule.id))
    present = {item.product_id: item for item in ranked}
    missing = [
        rule.product_id
        for rule in rules
        if rule.product_id is not None and rule.product_id not in present
    ]
    allowed = passing(missing, search_filter) if missing else set()
    pinned: set[int] = set()
    for rule in rules:
        product_id = rule.product_id
        if product_id is None or product_id in pinned:
            continue  # two pins of one product: the higher position wins
        item = present.get(product_id)
        if item is None:
            if product_id not in allowed:
                continue  # outside the search's filters, or inactive
            item = ResultItem(
                product_id=product_id, score=0.0, image_id=None, legs={}, leg_scores={}
            )
        else:
            ranked = [other for other in ranked if other.product_id != product_id]
        ranked.insert(min((rule.position or 1) - 1, len(ranked)), item)
        item.rules.append(str(rule.id))
        pinned.add(product_id)
        applied.append(rule.applied)
    return ranked
