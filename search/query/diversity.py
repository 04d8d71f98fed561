"""Shopper-side diversity: maximal marginal relevance (MMR) over the top results.

Near-identical photos of different products (one item sold by several sellers, a colourway
shot the same way) fill a page with the same picture. MMR re-picks the top ``k`` one by one,
each time the product that maximises ``(1 - diversity) * relevance - diversity * (its highest
cosine to a product already picked)``, on the matched images' CLIP vectors (stored in
PostgreSQL, so no extra model or index call). ``diversity`` 0 keeps the ranking as it is.
"""

from __future__ import annotations

import numpy as np

from search.models import ImageEmbedding
from search.query.types import ResultItem


def image_vectors(image_ids: list[int], model_key: str) -> dict[int, np.ndarray]:
    rows = ImageEmbedding.objects.filter(image_id__in=image_ids, model_key=model_key)
    return {row.image_id: row.as_array() for row in rows}


def mmr(
    items: list[ResultItem], vectors: dict[int, np.ndarray], *, diversity: float, k: int
) -> list[ResultItem]:
    """The first ``k`` items re-ordered by MMR; the rest follow unchanged. Items without a
    vector are compared to nothing (their relevance alone counts)."""
    if diversity <= 0 or len(items) < 2:
        return items
    head, tail = items[:k], items[k:]
    scores = np.array([item.score for item in head], dtype=np.float64)
    span = scores.max() - scores.min()
    relevance = (scores - scores.min()) / span if span > 0 else np.ones_like(scores)
    dim = next((len(v) for v in vectors.values()), 0)
    matrix = np.zeros((len(head), dim), dtype=np.float32)
    has_vector = np.zeros(len(head), dtype=bool)
    for row, item in enumerate(head):
        vector = vectors.get(item.image_id) if item.image_id is not None else None
        if vector is not None:
            matrix[row], has_vector[row] = vector, True
    similarity = matrix @ matrix.T  # zero rows: no similarity to anything
    closest = np.full(len(head), -np.inf)
    remaining = list(range(len(head)))
    order: list[int] = []
    while remaining:
        penalty = np.where(np.isfinite(closest[remaining]), closest[remaining], 0.0)
        values = (1 - diversity) * relevance[remaining] - diversity * penalty
        pick = remaining[int(np.argmax(values))]  # ties: the better-ranked one (first)
        order.append(pick)
        remaining.remove(pick)
        if has_vector[pick]:
            closest = np.maximum(closest, np.where(has_vector, similarity[:, pick], -np.inf))
    return [head[i] for i in order] + tail
