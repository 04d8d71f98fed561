"""Demand gaps from photos: what shoppers photographed and the catalogue could not match.

Photo searches whose best match was poor (below ANALYTICS_LOW_SCORE_PHOTO) are clustered by
their CLIP query vectors with HDBSCAN (scikit-learn): it finds how many groups there are by
itself and leaves one-off photos out as noise. Each cluster, largest first, gets its size, the
catalogue image nearest its medoid (a picture for it that is never the shopper's photo), the
nearest products, and the shop's category and attribute names CLIP puts closest to it.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.conf import settings
from sklearn.cluster import HDBSCAN

from analytics.models import SearchEvent
from catalog.models import Merchant, Product
from search.query.nearest import live_image_model, name_vectors, products_near_vector
from search.query.types import ResultItem

logger = logging.getLogger(__name__)

PHOTO_KINDS = ("photo", "hybrid", "look")
# Enough for a shop's month of poor photo searches; HDBSCAN on this many 512-d vectors takes a
# few seconds (bench/analytics.py), and the newest searches are the ones that matter.
MAX_SEARCHES = 5000
# A photo belongs to a cluster when it is no further from the centre than this many times
# the median distance of the photos HDBSCAN put in it.
OUTLIER_FACTOR = 3.0
ATTRIBUTE_KEYS = ("colour", "color", "material", "style", "pattern")


@dataclass
class DemandGap:
    size: int
    medoid_search_id: str
    cohesion: float  # mean cosine of the members to their centre
    nearest: list[ResultItem] = field(default_factory=list)
    words: list[tuple[str, float]] = field(default_factory=list)

    @property
    def thumbnail_url(self) -> str | None:
        return self.nearest[0].thumbnail_url if self.nearest else None

    @property
    def best_similarity(self) -> float | None:
        return self.nearest[0].score if self.nearest else None


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def shop_names(merchant: Merchant | None = None, *, limit: int = 300) -> list[str]:
    """The words to name a cluster with: categories and common attribute values."""
    products = Product.objects.filter(is_active=True)
    if merchant is not None:
        products = products.filter(merchant=merchant)
    names = {c for c in products.values_list("category", flat=True).distinct() if c}
    counts: Counter[str] = Counter()
    for attributes in products.values_list("attributes", flat=True)[:5000]:
        for key in ATTRIBUTE_KEYS:
            value = (attributes or {}).get(key)
            if isinstance(value, str) and value.strip():
                counts[value.strip().lower()] += 1
    names.update(value for value, _ in counts.most_common(limit))
    return sorted(names)[:limit]


def low_score_photo_searches(*, merchant: Merchant | None, since: datetime, model: str):
    searches = SearchEvent.objects.filter(
        kind__in=PHOTO_KINDS,
        created_at__gte=since,
        query_vector__isnull=False,
        model=model,
        best_score__lt=settings.ANALYTICS_LOW_SCORE_PHOTO,
    )
    if merchant is not None:
        searches = searches.filter(merchant_ids__contains=[merchant.pk])
    return searches.order_by("-created_at").values_list("search_id", "query_vector")[:MAX_SEARCHES]


def demand_gaps(
    *,
    merchant: Merchant | None,
    since: datetime,
    min_cluster_size: int = 5,
    nearest: int = 4,
    words: int = 3,
) -> list[DemandGap]:
    model = live_image_model()
    if model is None:
        return []
    rows = list(low_score_photo_searches(merchant=merchant, since=since, model=model))
    if len(rows) < min_cluster_size:
        return []
    ids = [str(search_id) for search_id, _ in rows]
    vectors = _unit(np.stack([np.frombuffer(bytes(raw), dtype=np.float32) for _, raw in rows]))
    # On unit vectors Euclidean distance orders pairs as cosine does. One cluster is allowed:
    # a shop often has a single gap.
    clusterer = HDBSCAN(min_cluster_size=min_cluster_size, allow_single_cluster=True, copy=True)
    labels = clusterer.fit_predict(vectors)
    names = shop_names(merchant)
    name_matrix = name_vectors(names)
    gaps = []
    free = labels == -1
    for label in sorted(set(labels.tolist()) - {-1}):
        core = np.flatnonzero(labels == label)
        centre = _unit(vectors[core].mean(axis=0))
        # Membership by distance to the centre, measured against the cluster's own spread:
        # small clusters lose photos to HDBSCAN's noise that sit well inside them, and a far
        # outlier it hung on the cluster's edge is dropped.
        limit = OUTLIER_FACTOR * float(np.median(1.0 - vectors[core] @ centre)) + 1e-6
        candidates = np.flatnonzero((labels == label) | free)
        members = candidates[1.0 - vectors[candidates] @ centre <= limit]
        if len(members) < min_cluster_size:
            continue
        free[members] = False
        centre = _unit(vectors[members].mean(axis=0))
        similarity = vectors[members] @ centre
        medoid = members[int(np.argmax(similarity))]
        gap = DemandGap(
            size=len(members),
            medoid_search_id=ids[medoid],
            cohesion=round(float(similarity.mean()), 4),
            nearest=products_near_vector(
                vectors[medoid], limit=nearest, merchant=merchant.slug if merchant else None
            ),
        )
        if name_matrix is not None:
            scores = name_matrix @ centre
            best = np.argsort(-scores)[:words]
            gap.words = [(names[i], round(float(scores[i]), 4)) for i in best]
        gaps.append(gap)
    gaps.sort(key=lambda gap: (-gap.size, gap.medoid_search_id))
    return gaps
