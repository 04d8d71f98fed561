"""The catalogue's own words, for correcting and recognising the words of a query.

Built from the live catalogue through ``catalog.selectors`` (never from a fixed list), once
per scope (the whole catalogue, or one merchant when a search is narrowed to it), and rebuilt
when the catalogue's version changes; the version is checked at most every
``SEARCH_VOCABULARY_TTL`` seconds, so an edited catalogue is followed within that time (and
the rebuild's duration, in the background).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection

from catalog import selectors
from search.encoding.keywords import word_terms

logger = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z]+")
COLOUR_KEYS = ("colour", "color")
# A word names a category when it is this concentrated in it ("trainers" in the sneakers'
# descriptions) over at least this many products: learnt from the catalogue, so a shop's own
# words for its categories are understood without a synonym list.
CATEGORY_WORD_SHARE = 0.9
CATEGORY_WORD_MIN_PRODUCTS = 3


def fold(text: str) -> str:
    """Lower case, accents dropped: how query and catalogue words are compared."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words_of(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def singular(word: str) -> str:
    """English plural to singular, good enough for shop nouns (boots, dresses, watches)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us")):
        return word[:-1]
    return word


def phrase_key(words: Iterable[str]) -> str:
    """A phrase as recognition compares it: singular words, no separators ("T-Shirts" ->
    "t shirt")."""
    return " ".join(singular(word) for word in words)


@dataclass
class Vocabulary:
    document_frequency: dict[str, int] = field(default_factory=dict)
    terms: set[int] = field(default_factory=set)  # keyword-leg terms of every word
    by_length: dict[int, list[str]] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)  # phrase key -> category
    category_words: dict[str, str] = field(default_factory=dict)  # learnt word -> category
    brands: dict[str, str] = field(default_factory=dict)  # phrase key -> brand
    colours: set[str] = field(default_factory=set)  # the catalogue's colour values, folded
    category_sizes: Counter[str] = field(default_factory=Counter)  # category -> products

    def largest_categories(self, count: int) -> list[str]:
        """The names of the ``count`` categories with the most products, largest first."""
        return [name for name, _ in self.category_sizes.most_common(max(0, count))]

    def knows(self, word: str) -> bool:
        """A word the keyword leg can match as it is (its stem is in some product's text)."""
        terms = word_terms(word)
        return bool(terms) and all(term in self.terms for term in terms)


def build(rows: Iterable[tuple[str, str, str, str, Mapping]]) -> Vocabulary:
    frequency: Counter[str] = Counter()
    per_category: dict[str, Counter[str]] = defaultdict(Counter)
    vocabulary = Vocabulary()
    for title, description, brand, category, attributes in rows:
        colours = [attributes.get(key) for key in COLOUR_KEYS if isinstance(attributes, Mapping)]
        values = [str(value) for value in (attributes or {}).values() if isinstance(value, str)]
        words = set(words_of(" ".join((title, description, brand, category, *values))))
        frequency.update(words)
        if category:
            per_category[category].update(words)
            vocabulary.categories[phrase_key(words_of(category))] = category
            vocabulary.category_sizes[category] += 1
        if brand:
            vocabulary.brands[phrase_key(words_of(brand))] = brand
        vocabulary.colours.update(fold(colour) for colour in colours if isinstance(colour, str))
    vocabulary.document_frequency = dict(frequency)
    for word in frequency:
        vocabulary.terms.update(word_terms(word))
        vocabulary.by_length.setdefault(len(word), []).append(word)
    named = {word for key in (*vocabulary.brands, *vocabulary.colours) for word in key.split()}
    for category, counts in per_category.items():
        for word, count in counts.items():
            if (
                count >= CATEGORY_WORD_MIN_PRODUCTS
                and count >= CATEGORY_WORD_SHARE * frequency[word]
                and word not in named
                and word_terms(word)
            ):
                vocabulary.category_words[singular(word)] = category
    return vocabulary


@dataclass
class _Entry:
    vocabulary: Vocabulary
    version: tuple
    checked: float


_lock = threading.Lock()
_entries: dict[str, _Entry] = {}
_rebuilding: dict[str, threading.Thread] = {}
_MAX_SCOPES = 64


def vocabulary_for(merchant_slug: str | None) -> Vocabulary:
    """The vocabulary of the catalogue a search looks at (one merchant's, when filtered).

    The first search of a scope builds it; after that a changed catalogue is rebuilt in a
    background thread (``SEARCH_VOCABULARY_BACKGROUND``) while searches go on with the one
    they have: at 100k products a build reads every product's text for seconds
    (bench/understanding.py), and price or stock edits change the version as well."""
    scope = merchant_slug or ""
    now = time.monotonic()
    entry = _entries.get(scope)
    if entry is not None and now - entry.checked < settings.SEARCH_VOCABULARY_TTL:
        return entry.vocabulary
    with _lock:
        entry = _entries.get(scope)
        if entry is not None and now - entry.checked < settings.SEARCH_VOCABULARY_TTL:
            return entry.vocabulary
        version = selectors.catalogue_version(merchant_slug=merchant_slug)
        if entry is not None and entry.version == version:
            entry.checked = now
            return entry.vocabulary
        if entry is not None and settings.SEARCH_VOCABULARY_BACKGROUND:
            entry.checked = now
            if scope not in _rebuilding:
                thread = threading.Thread(
                    target=_rebuild_in_background,
                    args=(scope, merchant_slug, version),
                    name=f"vocabulary-{scope or 'all'}",
                    daemon=True,
                )
                _rebuilding[scope] = thread
                thread.start()
            return entry.vocabulary
        vocabulary = build(selectors.product_words_for_vocabulary(merchant_slug=merchant_slug))
        _store(scope, _Entry(vocabulary, version, now))
        return vocabulary


def _store(scope: str, entry: _Entry) -> None:
    if len(_entries) >= _MAX_SCOPES and scope not in _entries:
        _entries.pop(next(iter(_entries)))
    _entries[scope] = entry


def _rebuild_in_background(scope: str, merchant_slug: str | None, version: tuple) -> None:
    try:
        vocabulary = build(selectors.product_words_for_vocabulary(merchant_slug=merchant_slug))
        with _lock:
            _store(scope, _Entry(vocabulary, version, time.monotonic()))
    except DatabaseError:
        # The old vocabulary stays; the next check after the TTL tries again.
        logger.exception("Could not rebuild the search vocabulary of %r", scope or "all")
    finally:
        with _lock:
            _rebuilding.pop(scope, None)
        connection.close()  # this thread's own connection


def wait_for_rebuilds(timeout: float | None = None) -> None:
    """Wait for the background rebuilds under way (tests, management commands)."""
    for thread in list(_rebuilding.values()):
        thread.join(timeout)


def clear_vocabularies() -> None:
    wait_for_rebuilds()
    with _lock:
        _entries.clear()
