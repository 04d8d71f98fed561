"""Per-attribute thresholds chosen from data: the merchants' own values are the truth.

A zero-shot attribute's best value comes with a confidence (its share among the attribute's
values). Where a merchant typed the attribute, the derived value is right or wrong; over many
such products, each threshold keeps some derived values and drops others, which gives a
precision (right among kept) and a recall (right kept among all judged). The threshold is the
one with the best F1, or the lowest that still reaches a target precision (the most values
shown at the precision asked for). It sits halfway between the least confidence kept and the
next one below, so that a value scored a little under the kept ones is not kept by accident.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Sample:
    """One product's derived value for an attribute, and what its merchant says it is."""

    predicted: str
    confidence: float
    truth: frozenset[str]

    @property
    def right(self) -> bool:
        return self.predicted in self.truth


@dataclass(frozen=True)
class Calibration:
    threshold: float
    precision: float
    recall: float
    f1: float
    samples: int
    kept: int
    goal: str  # "f1" or "precision>=0.9"

    def as_dict(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def scores_at_each_threshold(samples: Sequence[Sample]) -> list[tuple[float, int, int]]:
    """``(threshold, kept, right kept)`` for each cut between distinct confidences, highest
    threshold first. Keeping nothing is not a cut: the attribute would say nothing at all."""
    ordered = sorted(samples, key=lambda s: -s.confidence)
    cuts: list[tuple[float, int, int]] = []
    kept = right = 0
    for position, sample in enumerate(ordered):
        kept += 1
        right += sample.right
        following = ordered[position + 1].confidence if position + 1 < len(ordered) else None
        if following is not None and following == sample.confidence:
            continue  # equal confidences are kept or dropped together
        threshold = sample.confidence if following is None else (sample.confidence + following) / 2
        cuts.append((threshold, kept, right))
    return cuts


def calibrate(
    samples: Iterable[Sample], *, target_precision: float | None = None
) -> Calibration | None:
    """The threshold with the best F1 (ties: the higher threshold), or with
    ``target_precision`` the lowest whose precision reaches it; None when no threshold does
    (or there are no samples)."""
    judged = list(samples)
    if not judged:
        return None
    best: Calibration | None = None
    for threshold, kept, right in scores_at_each_threshold(judged):
        precision = right / kept
        recall = right / len(judged)
        f1 = 2 * precision * recall / (precision + recall) if right else 0.0
        candidate = Calibration(
            threshold=threshold,
            precision=precision,
            recall=recall,
            f1=f1,
            samples=len(judged),
            kept=kept,
            goal="f1" if target_precision is None else f"precision>={target_precision:g}",
        )
        if target_precision is None:
            if best is None or f1 > best.f1:  # cuts come highest first: ties keep the higher
                best = candidate
        elif precision >= target_precision and (best is None or recall > best.recall):
            best = candidate
    return best


@dataclass
class Judged:
    """The samples of each ``(category, attribute)``, and how many products were left out
    because the merchant's value is not in the vocabulary (the model could never say it)."""

    samples: dict[tuple[str, str], list[Sample]]
    out_of_vocabulary: dict[tuple[str, str], int]


def judged_samples(*, category: str = "", batch_size: int = 200) -> Judged:
    """Score every product whose merchant typed some attribute of its category's vocabulary
    (the live model's stored image vectors, thresholds not applied) against that value."""
    from catalog import selectors as catalog_selectors
    from search.enrichment.service import product_best_values

    judged = Judged(samples={}, out_of_vocabulary={})
    product_ids = catalog_selectors.product_ids_with_typed_attributes(category=category)
    for start in range(0, len(product_ids), batch_size):
        batch = product_ids[start : start + batch_size]
        for product, attributes, best in product_best_values(product_ids=batch):
            for attribute in attributes:
                truth = catalog_selectors.typed_attribute_values(
                    attributes=product.attributes, name=attribute.name
                )
                if not truth:
                    continue
                key = (product.category.strip().lower(), attribute.name)
                if not set(truth) & set(attribute.values):
                    judged.out_of_vocabulary[key] = judged.out_of_vocabulary.get(key, 0) + 1
                    continue
                value, confidence = best[attribute.name]
                judged.samples.setdefault(key, []).append(
                    Sample(predicted=value, confidence=confidence, truth=frozenset(truth))
                )
    return judged
