"""Near-duplicate images: close in CLIP space, confirmed by a perceptual hash. Within one
merchant they are flagged for the merchant; across merchants (the same photo in two shops)
for shop staff only, in a link of their own.

The vector query finds candidates cheaply among all of the merchant's images (the index is
already there); the hash then confirms that the pixels match, because CLIP puts two different
photos of the same kind of object close too. Exact duplicates of one product are refused at
upload (catalog intake); these are the copies that differ by encoding, size, a light crop or
a recolouring. Precision and recall on a synthetic set: bench/enrichment.py.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import imagehash
import numpy as np
from PIL import Image

from search.index.documents import IMAGE_VECTOR, image_point_id
from search.index.generations import images_alias
from search.vector_index.base import SearchFilter, VectorIndex

# Candidates looked at per image: the closest few are enough to find a twin.
CANDIDATES = 8


def perceptual_hash(data: bytes | Image.Image) -> str:
    """Two 64-bit hashes of the luminance as 32 hex digits: the DCT hash (imagehash.phash)
    and the gradient hash (dhash). Both survive re-encoding and resizing; a crop or a hue
    rotation moves bits in each, but not the same ones, so their sum separates copies from
    other photos better than either (bench/enrichment.py: at 28 bits of the 128, recall
    0.95-0.99 with about one distinct pair in 45,000 under it)."""
    image = data if isinstance(data, Image.Image) else Image.open(io.BytesIO(data))
    image = image.convert("RGB")
    return f"{imagehash.phash(image)}{imagehash.dhash(image)}"


def hash_distance(a: str, b: str) -> int:
    """Bits that differ between two hashes (summed over their 64-bit parts)."""
    if len(a) != len(b) or len(a) % 16:
        return 10**6  # hashes of another kind (another version) never match
    return sum(
        int(imagehash.hex_to_hash(a[i : i + 16]) - imagehash.hex_to_hash(b[i : i + 16]))
        for i in range(0, len(a), 16)
    )


@dataclass(frozen=True)
class Twin:
    image_id: int
    similarity: float  # cosine of the two image vectors
    hash_distance: int


def model_key_of(collection: str) -> str:
    return collection[len(images_alias()) + 1 :]


def image_vectors(
    index: VectorIndex, collection: str, image_ids: list[int]
) -> dict[int, np.ndarray]:
    """The images' vectors as stored in ``collection``, by image id."""
    key = model_key_of(collection)
    ids = {image_point_id(image_id, key): image_id for image_id in image_ids}
    found = index.retrieve(collection, list(ids), with_vectors=True)
    vectors: dict[int, np.ndarray] = {}
    for point_id, _payload, named in found:
        vector = (named or {}).get(IMAGE_VECTOR)
        if isinstance(vector, np.ndarray):
            vectors[ids[point_id]] = vector
    return vectors


def twin_candidates(
    index: VectorIndex,
    collection: str,
    *,
    image_id: int,
    vector: np.ndarray,
    merchant: str,
    min_similarity: float,
    across_merchants: bool = False,
) -> list[tuple[int, float]]:
    """``(image id, cosine)`` of the images at least ``min_similarity`` close: the merchant's
    own, or with ``across_merchants`` other merchants' only."""
    hits = index.query(
        collection,
        vector_name=IMAGE_VECTOR,
        vector=vector,
        filter=SearchFilter() if across_merchants else SearchFilter(merchant=merchant),
        # Across merchants the merchant's own copies may come first: look a little further.
        limit=(2 * CANDIDATES if across_merchants else CANDIDATES) + 1,
        group_by_product=False,
        exact=False,
        score_threshold=min_similarity,
        payload_fields=("image_id", "merchant"),
    )
    return [
        (int(hit.payload["image_id"]), float(hit.score))
        for hit in hits
        if int(hit.payload.get("image_id", -1)) != image_id
        and (hit.payload.get("merchant") != merchant if across_merchants else True)
    ]


def confirm_twin(
    own_hash: str, candidates: list[tuple[int, float, str]], *, max_hash_distance: int
) -> Twin | None:
    """The candidate ``(image id, cosine, hash)`` whose hash is within ``max_hash_distance``
    bits, the closest hash first (then the older image)."""
    confirmed = [
        Twin(image_id=image_id, similarity=score, hash_distance=hash_distance(own_hash, other))
        for image_id, score, other in candidates
        if other
    ]
    confirmed = [twin for twin in confirmed if twin.hash_distance <= max_hash_distance]
    if not confirmed:
        return None
    return min(confirmed, key=lambda twin: (twin.hash_distance, twin.image_id))
