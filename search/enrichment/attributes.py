"""Zero-shot product attributes (pattern, material, style, sleeve length...) with CLIP.

Each attribute of a category has a small vocabulary of values (``data/attributes.json``, or
``ENRICHMENT_ATTRIBUTES_FILE``). Every value becomes a text prompt ("a product photo of a
striped dress"), embedded once per model by CLIP's text tower, and compared with the image
vectors already stored for the product: no new pass over the images. The value's confidence
is its softmax share among the attribute's values (CLIP's logit scale), averaged over the
product's images; a value is kept when its confidence reaches the attribute's threshold,
which is the knob to calibrate per attribute on judged images (``manage.py
calibrate_attributes``). Shop staff edit the vocabularies in the admin: rows in the database
override the file's attributes (search/enrichment/vocabularies.py).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DEFAULT_VOCABULARIES = Path(__file__).parent / "data" / "attributes.json"
# CLIP's learned logit scale is ~100: softmax over cosine * 100 is how CLIP itself compares
# prompts.
LOGIT_SCALE = 100.0


@dataclass(frozen=True)
class Attribute:
    name: str
    values: tuple[str, ...]
    threshold: float
    prompts: tuple[str, ...]


@dataclass(frozen=True)
class Vocabularies:
    prompt: str
    default: dict[str, dict | None]
    categories: dict[str, dict]

    def for_category(self, category: str) -> list[Attribute]:
        own = self.categories.get(category.strip().lower(), {})
        noun = str(own.get("noun") or category.rstrip("s") or "product")
        merged: dict[str, dict | None] = {**self.default}
        merged.update({k: v for k, v in own.items() if k != "noun"})
        attributes = []
        for name, spec in sorted(merged.items()):
            if not spec or not spec.get("values"):
                continue  # null switches a default attribute off for the category
            values = tuple(dict.fromkeys(str(v).strip().lower() for v in spec["values"]))
            if len(values) < 2:
                continue  # one value's share is always 1: nothing would be judged
            attributes.append(
                Attribute(
                    name=name.strip().lower(),
                    values=values,
                    threshold=float(spec.get("threshold", 0.5)),
                    prompts=tuple(self.prompt.format(value=v, noun=noun) for v in values),
                )
            )
        return attributes

    def with_overrides(self, overrides: dict[tuple[str, str], dict | None]) -> Vocabularies:
        """These vocabularies with ``{(category or "", attribute): spec or None}`` put over
        them: a spec replaces the attribute's, None switches it off ("" is every category)."""
        default = dict(self.default)
        categories = {name: dict(spec) for name, spec in self.categories.items()}
        for (category, name), spec in overrides.items():
            target = categories.setdefault(category, {}) if category else default
            target[name] = spec
        return Vocabularies(prompt=self.prompt, default=default, categories=categories)

    def attribute(self, category: str, name: str) -> Attribute | None:
        return next((a for a in self.for_category(category) if a.name == name), None)


def load_vocabularies(path: str | Path | None = None) -> Vocabularies:
    source = Path(path) if path else DEFAULT_VOCABULARIES
    data = json.loads(source.read_text())
    prompt = str(data.get("prompt") or "a photo of a {value} {noun}")
    default = data.get("default") or {}
    categories = {str(k).strip().lower(): v for k, v in (data.get("categories") or {}).items()}
    if not isinstance(default, dict) or not isinstance(categories, dict):
        raise ValueError(f"{source}: 'default' and 'categories' must be objects")
    return Vocabularies(prompt=prompt, default=default, categories=categories)


@lru_cache(maxsize=4)
def file_vocabularies(path: str = "") -> Vocabularies:
    """The data file's vocabularies (``ENRICHMENT_ATTRIBUTES_FILE`` or the bundled one)."""
    return load_vocabularies(path or None)


def best_values(
    image_vectors: np.ndarray, attributes: list[Attribute], prompt_vectors: dict[str, np.ndarray]
) -> dict[str, tuple[str, float]]:
    """``{attribute: (best value, its confidence)}`` whatever the thresholds (calibration
    judges these). ``image_vectors`` is (images, dim); ``prompt_vectors`` maps each prompt to
    its unit text vector."""
    if image_vectors.size == 0:
        return {}
    found: dict[str, tuple[str, float]] = {}
    for attribute in attributes:
        texts = np.stack([prompt_vectors[p] for p in attribute.prompts])
        logits = LOGIT_SCALE * (image_vectors @ texts.T)  # (images, values)
        logits -= logits.max(axis=1, keepdims=True)
        shares = np.exp(logits)
        shares /= shares.sum(axis=1, keepdims=True)
        mean = shares.mean(axis=0)
        best = int(mean.argmax())
        found[attribute.name] = (attribute.values[best], float(mean[best]))
    return found


def score_attributes(
    image_vectors: np.ndarray, attributes: list[Attribute], prompt_vectors: dict[str, np.ndarray]
) -> dict[str, dict]:
    """``{attribute: {"value", "confidence"}}`` of the attributes whose best value reaches
    its threshold."""
    thresholds = {a.name: a.threshold for a in attributes}
    return {
        name: {"value": value, "confidence": round(confidence, 3)}
        for name, (value, confidence) in best_values(
            image_vectors, attributes, prompt_vectors
        ).items()
        if confidence >= thresholds[name]
    }


class PromptCache:
    """Prompt text vectors per model: a vocabulary is embedded once per process."""

    def __init__(self) -> None:
        self._vectors: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()

    def vectors(self, encoder, prompts: list[str]) -> dict[str, np.ndarray]:
        key = encoder.model_key
        missing = [p for p in dict.fromkeys(prompts) if (key, p) not in self._vectors]
        if missing:
            fresh = encoder.encode_texts(missing)
            with self._lock:
                for prompt, vector in zip(missing, fresh, strict=True):
                    self._vectors[(key, prompt)] = vector
        return {p: self._vectors[(key, p)] for p in prompts}

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()


PROMPTS = PromptCache()
