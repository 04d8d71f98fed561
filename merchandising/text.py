"""How rules read words: lower case, letters and digits, plurals folded."""

import re

_TOKEN = re.compile(r"\w+", re.UNICODE)


def split_terms(raw: str) -> list[str]:
    return [term.strip().lower() for term in raw.split(",") if term.strip()]


def exact_key(text: str) -> str:
    """Case and spacing aside: "Summer  Dress" == "summer dress"."""
    return " ".join(text.lower().split())


def _fold(word: str) -> str:
    # A light plural fold, enough for "dresses"/"dress", "lamps"/"lamp"; not a stemmer.
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    return [_fold(token) for token in _TOKEN.findall(text.lower())]


def words_key(text: str) -> str:
    """Order and plurals aside: "Dresses summer" == "summer dress"."""
    return " ".join(sorted(set(words(text))))
