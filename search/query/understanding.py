"""Query understanding: the step before the legs.

From the shopper's words it finds

* an **identifier**: the whole query, compared without case or separators, equal to a
  product's SKU, GTIN or MPN (exact matches are put first, above fusion) or, from
  ``SEARCH_IDENTIFIER_PREFIX_MIN`` characters, the start of one (those rank as a leg);
* **typos**: a word the catalogue does not know is corrected to the closest catalogue word
  (optimal string alignment distance 1, 2 for words of 8 letters or more; ties go to the word
  more products use); the corrected words weigh ``SEARCH_CORRECTED_WEIGHT`` in the keyword
  leg and the text legs read the corrected query;
* **recognised words**: category names (singular or plural, and words the catalogue uses for
  one category only), brands, and colours (the catalogue's colour values and a table of
  shades). They become soft boosts, never filters: a "black" query still finds a charcoal
  item that is otherwise right.

The vocabulary comes from the live catalogue (``search.query.vocabulary``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from rapidfuzz import process
from rapidfuzz.distance import OSA

from catalog.models import identifier_key
from catalog.selectors import product_ids_by_identifier
from search.encoding.keywords import word_terms
from search.query.vocabulary import Vocabulary, fold, phrase_key, singular, vocabulary_for
from search.vector_index.base import SearchFilter

# Shade words shoppers use -> the colour values a catalogue may hold, best first ("navy" goes
# to a catalogue's "navy" when it has one, else to "blue"). General colour knowledge, the same
# for every shop; a catalogue colour is always recognised as itself too.
COLOUR_SHADES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        [
            "crimson",
            "scarlet",
            "burgundy",
            "maroon",
            "cherry",
            "ruby",
            "wine",
            "oxblood",
            "vermilion",
            "cardinal",
            "claret",
        ],
        ("red",),
    ),
    **dict.fromkeys(
        ("cobalt", "azure", "cerulean", "sapphire", "sky blue", "royal blue", "baby blue"),
        ("blue",),
    ),
    **dict.fromkeys(("navy", "navy blue", "dark blue", "midnight blue"), ("navy", "blue")),
    **dict.fromkeys(("jet black", "jet", "ebony", "onyx", "pitch black", "raven"), ("black",)),
    **dict.fromkeys(
        ("ivory", "snow white", "cream", "off white", "eggshell", "pearl", "alabaster", "chalk"),
        ("white",),
    ),
    **dict.fromkeys(
        ("emerald", "forest green", "olive", "sage", "mint", "lime", "jade", "bottle green"),
        ("green",),
    ),
    **dict.fromkeys(("mustard", "lemon", "canary", "ochre", "saffron"), ("yellow",)),
    **dict.fromkeys(
        ("chocolate", "chestnut", "tan", "camel", "cognac", "mocha", "walnut", "mahogany"),
        ("brown",),
    ),
    **dict.fromkeys(
        ("rose", "blush", "fuchsia", "magenta", "salmon", "hot pink", "dusty pink"), ("pink",)
    ),
    **dict.fromkeys(
        ("charcoal", "slate", "ash", "graphite", "pewter", "smoke", "gray"), ("grey", "gray")
    ),
    **dict.fromkeys(("grey",), ("grey", "gray")),
    **dict.fromkeys(("violet", "lavender", "lilac", "plum", "mauve", "aubergine"), ("purple",)),
    **dict.fromkeys(("tangerine", "apricot", "peach", "burnt orange"), ("orange",)),
    **dict.fromkeys(("sand", "taupe", "ecru", "oatmeal", "khaki"), ("beige",)),
}
_MAX_PHRASE = 3  # words in the longest name recognised ("midnight blue", "running shoes")
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class Understanding:
    """What the words of a query were taken to mean."""

    text: str  # the words the legs read (corrected)
    corrected: str | None = None  # set when some word was corrected
    corrections: dict[str, str] = field(default_factory=dict)  # typed word -> catalogue word
    identifier_ids: tuple[int, ...] = ()  # exact SKU/GTIN/MPN matches, first on the page
    identifier_prefix_ids: tuple[int, ...] = ()  # identifiers starting with the query
    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()  # catalogue colour values the words name
    expansions: tuple[str, ...] = ()  # catalogue words added to the keyword leg (shades)

    def product_text(self, text: str) -> str:
        """The words for the product-text leg: with the catalogue's colour for a shade
        ("lamp in mustard yellow"), which product texts say and the model may not link."""
        return " ".join((text, *self.expansions))

    def keyword_parts(self) -> list[tuple[str, float]]:
        """Pieces of text for the keyword leg, with their weights."""
        weight = settings.SEARCH_CORRECTED_WEIGHT
        typed = self.text
        for corrected in self.corrections.values():
            typed = re.sub(rf"\b{re.escape(corrected)}\b", " ", typed)
        return [
            (typed, 1.0),
            *((word, weight) for word in self.corrections.values()),
            *((word, weight) for word in self.expansions),
        ]


def understand(text: str, search_filter: SearchFilter, *, correct: bool = True) -> Understanding:
    exact, prefixed = _identifiers(text, search_filter)
    if exact:
        # An identifier is not words: nothing to correct or recognise.
        return Understanding(text=text, identifier_ids=tuple(exact))
    vocabulary = vocabulary_for(search_filter.merchant)
    corrections = _corrections(text, vocabulary) if correct else {}
    corrected = _apply(text, corrections) if corrections else text
    categories, brands, colours, expansions = _recognise(corrected, vocabulary)
    return Understanding(
        text=corrected,
        corrected=corrected if corrections else None,
        corrections=corrections,
        identifier_prefix_ids=tuple(prefixed),
        categories=categories,
        brands=brands,
        colours=colours,
        expansions=expansions,
    )


def _identifiers(text: str, search_filter: SearchFilter) -> tuple[list[int], list[int]]:
    key = identifier_key(text)
    has_digit = any(char.isdigit() for char in key)
    pieces = len(text.split())
    # Longer than any identifier column, more pieces than a spaced-out code ("4 006381
    # 333931"), or several words without a digit ("red boots"): not an identifier, and
    # not worth a database round trip.
    if not key or len(key) > 64 or pieces > 3 or (pieces > 1 and not has_digit):
        return [], []
    # A prefix must look like the start of a code (a digit in it), or "lamp" would favour
    # every SKU that happens to start with those letters.
    wants_prefix = len(key) >= settings.SEARCH_IDENTIFIER_PREFIX_MIN and has_digit
    return product_ids_by_identifier(
        key=key,
        prefix_limit=settings.SEARCH_FUSION_DEPTH if wants_prefix else 0,
        merchant_slug=search_filter.merchant,
        categories=search_filter.categories,
        brands=search_filter.brands,
        price_min=search_filter.price_min,
        price_max=search_filter.price_max,
        in_stock=search_filter.in_stock,
        exclude_ids=search_filter.exclude_product_ids,
    )


def _known_phrase_words() -> set[str]:
    return {word for phrase in COLOUR_SHADES for word in phrase.split()}


_SHADE_WORDS = _known_phrase_words()


def _corrections(text: str, vocabulary: Vocabulary) -> dict[str, str]:
    corrections: dict[str, str] = {}
    for token in _TOKEN.findall(text):
        word = fold(token)
        if (
            len(word) < 3
            or not word.isascii()
            or word in corrections
            or word in _SHADE_WORDS
            or not word_terms(word)  # a stop word
            or vocabulary.knows(word)
        ):
            continue
        best = _closest(word, vocabulary)
        if best is not None:
            corrections[word] = best
    return corrections


def _closest(word: str, vocabulary: Vocabulary) -> str | None:
    limit = 2 if len(word) >= 8 else 1
    candidates = [
        candidate
        for length in range(len(word) - limit, len(word) + limit + 1)
        for candidate in vocabulary.by_length.get(length, ())
    ]
    if not candidates:
        return None
    found = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=limit, limit=None)
    if not found:
        return None
    frequency = vocabulary.document_frequency
    best = min(found, key=lambda match: (match[1], -frequency.get(match[0], 0), match[0]))
    return best[0]


def _apply(text: str, corrections: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        return corrections.get(fold(match.group(0)), match.group(0))

    return _TOKEN.sub(replace, text)


def _recognise(
    text: str, vocabulary: Vocabulary
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    words = [fold(token) for token in _TOKEN.findall(text)]
    categories: dict[str, None] = {}
    brands: dict[str, None] = {}
    colours: dict[str, None] = {}
    expansions: dict[str, None] = {}
    used = [False] * len(words)
    # Longest phrases first, so "jet black" is one colour and "running shoes" one category.
    for size in range(min(_MAX_PHRASE, len(words)), 0, -1):
        for start in range(len(words) - size + 1):
            if any(used[start : start + size]):
                continue
            span = words[start : start + size]
            key = phrase_key(span)
            plain = " ".join(span)
            found = True
            if key in vocabulary.categories:
                categories[vocabulary.categories[key]] = None
            elif key in vocabulary.brands:
                brands[vocabulary.brands[key]] = None
            elif plain in vocabulary.colours:
                colours[plain] = None
            elif plain in COLOUR_SHADES:
                colour = next((c for c in COLOUR_SHADES[plain] if c in vocabulary.colours), None)
                if colour is None:
                    continue
                colours[colour] = None
                expansions[colour] = None
            else:
                found = False
            if found:
                used[start : start + size] = [True] * size
    if not categories:
        # Words the catalogue uses for one category only ("trainers", "rucksack"), when no
        # category is named outright.
        for word, was_used in zip(words, used, strict=True):
            category = vocabulary.category_words.get(singular(word))
            if not was_used and category is not None:
                categories[category] = None
    return tuple(categories), tuple(brands), tuple(colours), tuple(expansions)
