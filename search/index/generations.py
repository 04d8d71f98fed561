"""Which collection is live, and which model built it.

Search and indexing ask here for the live image collection and its encoder. The alias in
the vector store decides; the IndexGeneration row of the aliased collection names the model
and revision. So a `reindex --model` switch changes both collection and query model in
one step, with no restart and no window where queries use the wrong model.
"""

import threading
import time

from django.conf import settings

from search.encoding.base import InferenceModel
from search.encoding.clip import ClipEncoder
from search.encoding.registry import (
    clip_encoder_for,
    forget_other_clip_encoders,
    get_clip_encoder,
    get_text_encoder,
)
from search.encoding.text import TextEncoder
from search.index.documents import IMAGE_VECTOR, KEYWORD_VECTOR, TEXT_VECTOR
from search.models import IndexGeneration
from search.vector_index import get_vector_index
from search.vector_index.base import VectorIndex

ALIAS_CACHE_SECONDS = 2.0

_lock = threading.Lock()
_alias_cache: dict[str, tuple[float, str | None]] = {}
# collection -> (model name, revision); a collection is built by one model for its whole life.
_generation_models: dict[str, tuple[str, str]] = {}


def images_alias() -> str:
    return f"{settings.VECTOR_COLLECTION_PREFIX}_images"


def products_alias() -> str:
    return f"{settings.VECTOR_COLLECTION_PREFIX}_products"


def image_collection_name(model_key: str) -> str:
    return f"{images_alias()}_{model_key}"


def product_collection_name(model_key: str) -> str:
    return f"{products_alias()}_{model_key}"


def resolve(alias: str, index: VectorIndex | None = None, *, fresh: bool = False) -> str | None:
    """The collection behind an alias; cached for a moment (a server round trip per query
    would cost more than the query)."""
    now = time.monotonic()
    cached = _alias_cache.get(alias)
    if cached and not fresh and now - cached[0] < ALIAS_CACHE_SECONDS:
        return cached[1]
    target = (index or get_vector_index()).resolve_alias(alias)
    _alias_cache[alias] = (now, target)
    return target


def forget_aliases() -> None:
    _alias_cache.clear()


def reset() -> None:
    with _lock:
        _generation_models.clear()
    forget_other_clip_encoders()
    forget_aliases()


def create_generation(
    index: VectorIndex, *, kind: str, encoder: InferenceModel
) -> tuple[str, IndexGeneration]:
    """The collection for ``encoder``'s vectors of ``kind`` (created if missing) and its
    IndexGeneration row naming the model that builds it. Not made live: see ``make_live``."""
    if kind == IndexGeneration.Kind.IMAGES:
        collection = image_collection_name(encoder.model_key)
        index.ensure_collection(collection, dense={IMAGE_VECTOR: encoder.dim})
    else:
        collection = product_collection_name(encoder.model_key)
        index.ensure_collection(
            collection, dense={TEXT_VECTOR: encoder.dim}, sparse=(KEYWORD_VECTOR,)
        )
    generation, _ = IndexGeneration.objects.update_or_create(
        collection=collection,
        defaults={
            "kind": kind,
            "model_name": encoder.model_name,
            "model_revision": encoder.revision,
            "model_key": encoder.model_key,
            "dim": encoder.dim,
        },
    )
    return collection, generation


def make_live(index: VectorIndex, *, alias: str, collection: str) -> None:
    """Point the alias at the collection: searches use it from their next query on."""
    index.set_alias(alias, collection)
    forget_aliases()


def live_images(index: VectorIndex | None = None) -> tuple[str, ClipEncoder]:
    """The live image collection and the encoder that built it; created on first use."""
    index = index or get_vector_index()
    alias = images_alias()
    target = resolve(alias, index)
    if target is not None:
        generation = IndexGeneration.objects.filter(collection=target).first()
        if generation is not None:
            return target, clip_encoder_for(generation.model_name, generation.model_revision)
        encoder = get_clip_encoder()
        if target == image_collection_name(encoder.model_key):
            return target, encoder
    encoder = get_clip_encoder()
    with _lock:
        target, _ = create_generation(index, kind=IndexGeneration.Kind.IMAGES, encoder=encoder)
        make_live(index, alias=alias, collection=target)
    return target, encoder


def live_products(index: VectorIndex | None = None) -> tuple[str, TextEncoder]:
    index = index or get_vector_index()
    alias = products_alias()
    encoder = get_text_encoder()
    target = resolve(alias, index)
    if target is not None:
        return target, encoder
    with _lock:
        target, _ = create_generation(index, kind=IndexGeneration.Kind.PRODUCTS, encoder=encoder)
        make_live(index, alias=alias, collection=target)
    return target, encoder


def live_image_encoder_if_any(
    index: VectorIndex | None = None, *, collection: str | None = None
) -> tuple[str | None, ClipEncoder]:
    """For queries: the live collection (None when nothing is indexed yet) and its encoder.

    ``collection`` names another built image generation to query instead (an experiment's
    variant compares a candidate model's collection with the live one before switching)."""
    index = index or get_vector_index()
    target = collection or resolve(images_alias(), index)
    if target is None:
        return None, get_clip_encoder()
    model = _generation_models.get(target)
    if model is None:
        generation = (
            IndexGeneration.objects.filter(collection=target)
            .only("model_name", "model_revision")
            .first()
        )
        if generation is None:
            return target, get_clip_encoder()
        model = _generation_models[target] = (generation.model_name, generation.model_revision)
    return target, clip_encoder_for(*model)
