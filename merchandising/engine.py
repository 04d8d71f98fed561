"""Rules at search time: which rules a search matches, and what they do to it.

Order, after fusion (search/query/rules_step.py) and before the optional VLM re-rank:

1. **hide**: the named product leaves the ranking.
2. **boost / bury**: a product that matches the rule's attribute gets ``± weight`` first-ranks
   of one leg added to its fused score (``weight / (SEARCH_RRF_K + 1)``, the unit the query's
   recognised-word boosts use); a **click model** rule (with ``MERCHANDISING_CLICK_MODEL`` on)
   adds ``weight × boost`` first-ranks to each product the latest click-model fit learned a
   boost (0..1) for, for this query's words (clickmodel.py); then the ranking is sorted again;
   exact identifier matches stay first.
3. **pin**: the named product is moved (or added, when the legs missed it but it passes the
   search's filters) to its position, counted from 1 on the whole ranking; pins are placed in
   order of position.

Synonyms run earlier, before encoding: the words they add go to the keyword and product-text
legs (CLIP reads the words as typed).

Scope: a shop-wide rule applies to every search. A merchant's rule only touches that merchant's
products; the ones that promote (synonyms, pins, boosts) apply to searches filtered to that
merchant (its own storefront), the ones that demote (buries, hides) to every search.

A search without words (a photo, more like this) has no query to match: the rules that match
any query, and those for a category filter the search has, apply (pins, boosts, buries,
hides); the ones for a query, synonyms and the click model (learned per query) do not.

Rules are compiled once per process into lookups by query, so a search costs a few dictionary
reads whatever the number of rules (bench/rules.py); ``cache.py`` reloads them when any
process changes one.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.utils import timezone

from merchandising.cache import current_rules
from merchandising.compiled import CompiledRule, Effect, Effects
from merchandising.facts import facts_for, passing
from merchandising.text import words, words_key
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
                fresh = [t for t in rule.phrases[phrase] if t not in present and t not in added]
                added.update(dict.fromkeys(fresh))
                applied[rule.applied] = None
    return tuple(added), list(applied)


def wants(query: SearchQuery) -> bool:
    """Whether some live rule matches this query: a search without words (a photo, more like
    this) fetches the deeper fused ranking only then (rules_step.rankers_wanted)."""
    return bool(current_rules().matching(query.text or "", query.filter))


def rank(
    query: SearchQuery, ranked: list[ResultItem]
) -> tuple[list[ResultItem], list[AppliedRule]]:
    rule_set = current_rules()
    rules = rule_set.matching(query.text or "", query.filter)
    if not rules:
        return ranked, []
    by_kind: dict[str, list[CompiledRule]] = defaultdict(list)
    for rule in rules:
        by_kind[rule.kind].append(rule)
    applied: list[AppliedRule] = []
    ranked = _hide(ranked, by_kind["hide"], applied)
    clicks = by_kind["click_model"] if settings.MERCHANDISING_CLICK_MODEL else []
    if by_kind["boost"] or by_kind["bury"] or clicks:
        learned = rule_set.click_boosts.get(words_key(query.text or ""), {}) if clicks else {}
        effects = rule_set.effects_for(by_kind["boost"], by_kind["bury"])
        ranked = _boost(ranked, effects, clicks, learned, applied)
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


def _boost(
    ranked: list[ResultItem],
    effects: Effects,
    clicks: list[CompiledRule],
    learned: dict[int, float],
    applied: list[AppliedRule],
) -> list[ResultItem]:
    """Boosts, buries and the click model's learned boosts, then one sort."""
    if not ranked:
        return ranked
    facts = facts_for([item.product_id for item in ranked])
    unit = 1.0 / (settings.SEARCH_RRF_K + 1)
    # The sets of effects products got, in the order first met (for the applied list).
    used: dict[int, tuple[Effect, ...]] = {}
    clicked: dict[AppliedRule, None] = {}
    memo = effects.products
    for item in ranked:
        product_id = item.product_id
        product = facts.get(product_id)
        if product is None:
            continue
        if learned and product_id in learned:
            # Each click-model rule scales what the fit learned for this query and product,
            # on its merchant's products only when it is a merchant's rule.
            for rule in clicks:
                if rule.merchant_id is None or rule.merchant_id == product.merchant_id:
                    item.score = round(item.score + unit * rule.weight * learned[product_id], 6)
                    item.rules.append(str(rule.id))
                    clicked[rule.applied] = None
        effect = memo.get(product_id)
        if effect is None or effect.facts is not product:
            effect = effects.for_product(product_id, product)
        if not effect.effects:
            continue
        item.score = round(item.score + unit * effect.weight, 6)
        item.rules.extend(effect.rule_ids)
        used.setdefault(id(effect.effects), effect.effects)
    applied += clicked
    distinct: dict[int, Effect] = {}
    for combination in used.values():
        for summed in combination:
            distinct.setdefault(id(summed), summed)
    applied += dict.fromkeys(rule for summed in distinct.values() for rule in summed.rules)
    return sorted(
        ranked, key=lambda item: (item.match != "identifier", -item.score, item.product_id)
    )


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
