"""Catalogue products nearest to a CLIP vector that is not a shopper's query (a cluster's
centre, say): the image leg alone, hydrated, and the text vectors of names to compare with."""

import numpy as np

from search.encoding.base import ModelUnavailable
from search.index import generations
from search.index.documents import IMAGE_VECTOR
from search.query.fusion import item_from_hit
from search.query.hydrate import hydrate
from search.query.service import IMAGE_HIT_FIELDS, clip_text_vector
from search.query.types import ResultItem
from search.vector_index import get_vector_index
from search.vector_index.base import SearchFilter


def live_image_model() -> str | None:
    """The model key of the live image collection's CLIP, or None when nothing is indexed."""
    index = get_vector_index()
    collection, clip = generations.live_image_encoder_if_any(index)
    return clip.model_key if collection is not None else None


def products_near_vector(
    vector: np.ndarray, *, limit: int = 5, merchant: str | None = None
) -> list[ResultItem]:
    index = get_vector_index()
    collection, _ = generations.live_image_encoder_if_any(index)
    if collection is None:
        return []
    hits = index.query(
        collection,
        vector_name=IMAGE_VECTOR,
        vector=np.asarray(vector, dtype=np.float32),
        filter=SearchFilter(merchant=merchant),
        limit=limit,
        payload_fields=IMAGE_HIT_FIELDS,
    )
    return hydrate([item_from_hit(hit, "image", rank) for rank, hit in enumerate(hits, 1)])


def name_vectors(names: list[str]) -> np.ndarray | None:
    """CLIP text vectors of names ("a photo of {name}"), one row each; None without CLIP."""
    if not names:
        return None
    _, clip = generations.live_image_encoder_if_any(get_vector_index())
    try:
        return np.stack([clip_text_vector(f"a photo of {name}", clip) for name in names])
    except ModelUnavailable:
        return None
