"""BM25-style sparse vectors for the keyword leg of a text search.

A product's text becomes a sparse vector of term-frequency weights; a query becomes one with
weight 1 per distinct term. The collection's sparse vector has the IDF modifier, so the
engine multiplies in each term's inverse document frequency at query time: the score is
BM25. Works the same with both backends (the vectors are plain index/value pairs).

Terms come from two analyzers:

* words, through qdrant-edge's ``Bm25`` analyzer (lowercase, accents folded, English stop
  words and Snowball stemming, stable hashing of terms to indices), so "Jackets" matches
  "jacket";
* codes: a whitespace-separated token with a digit and a letter, or with inner separators
  (``SKU-10442``, ``AB-1234-X``, ``ab1234x``), also counts as one term with separators
  dropped, so a query for a SKU scores its product's full code, not only its pieces
  ("sku", "10442"), and ``AB1234X`` finds ``AB-1234-X``.

The term weighting is computed here (k1, b, average length tuned for product texts of a few
dozen words, not the 256-word default of web documents). Changing the analyzers or the hashing
changes the indices: rebuild the product collections then (a new text model key).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable

from qdrant_edge import Bm25, Bm25Config

from search.vector_index.base import SparseVec

K1 = 1.2
B = 0.75
# Title, brand, category, a short description: a few dozen words after stop words.
AVG_LEN = 40.0

_WORDS = Bm25(Bm25Config(language="english", lowercase=True, ascii_folding=True))
_EDGE_PUNCTUATION = "\"'`()[]{}<>,;:!?.*"
_HAS_DIGIT = re.compile(r"\d")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_INNER_SEPARATOR = re.compile(r"\w[-_/.+]\w")
_NOT_ALNUM = re.compile(r"[\W_]+")


def keyword_document_vector(text: str) -> SparseVec:
    """The indexed side: BM25 term-frequency weights (IDF comes from the collection)."""
    counts, length = _analyze(text)
    norm = K1 * (1.0 - B + B * length / AVG_LEN)
    weights = {term: tf * (K1 + 1.0) / (tf + norm) for term, tf in counts.items()}
    return _sparse(weights)


def keyword_query_vector(text: str) -> SparseVec:
    """The query side: each distinct term once, weight 1."""
    counts, _ = _analyze(text)
    return _sparse(dict.fromkeys(counts, 1.0))


def keyword_weighted_query_vector(parts: Iterable[tuple[str, float]]) -> SparseVec:
    """The query side with a weight per piece of text (a corrected word counts a little less
    than a typed one); a term in several pieces keeps its highest weight."""
    weights: dict[int, float] = {}
    for text, weight in parts:
        counts, _ = _analyze(text)
        for term in counts:
            weights[term] = max(weight, weights.get(term, 0.0))
    return _sparse(weights)


def word_terms(word: str) -> tuple[int, ...]:
    """The term indices one word becomes in the keyword leg (none for a stop word)."""
    return tuple(_WORDS.embed_query(word).indices)


def _analyze(text: str) -> tuple[Counter[int], int]:
    """Term counts and the document length (in word terms)."""
    counts: Counter[int] = Counter()
    length = 0
    for chunk in (text or "").split():
        words = _WORDS.embed_query(chunk).indices
        counts.update(words)
        length += len(words)
        code = _code_term(chunk)
        if code is not None:
            counts[code] += 1
    return counts, length


def _code_term(chunk: str) -> int | None:
    token = chunk.strip(_EDGE_PUNCTUATION)
    is_code = bool(_HAS_DIGIT.search(token) and _HAS_LETTER.search(token)) or bool(
        _INNER_SEPARATOR.search(token)
    )
    if not is_code:
        return None
    joined = _NOT_ALNUM.sub("", token.lower())
    if len(joined) < 2:
        return None
    # A stable hash (Python's hash() changes per process), in its own namespace; 31 bits keeps
    # it inside every sparse index type.
    digest = hashlib.blake2b(b"code\x00" + joined.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


def _sparse(weights: dict[int, float]) -> SparseVec:
    terms = sorted(weights)
    return SparseVec(tuple(terms), tuple(float(weights[t]) for t in terms))
