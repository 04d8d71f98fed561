"""Which collection is live, and which model built it.

Search and indexing ask here for the live image collection and its encoder. The alias in
the vector store decides; the IndexGeneration row of the aliased collection names the model
and revision. So a `reindex --model` switch changes both collection and query model in
one step, with no restart and no window where queries use the wrong model.
"""

import threading
import time

from django.conf import settings

from search.encoders import ClipEncoder, get_clip_encoder
from search.models import IndexGeneration
from search.text_encoder import TextEncoder, get_text_encoder
from search.vector_index import get_vector_index
from search.vector_index.base import VectorIndex

IMAGE_VECTOR = "image"
TEXT_VECTOR = "text"
KEYWORD_VECTOR = "keywords"
ALIAS_CACHE_SECONDS = 2.0

_lock = threading.Lock()
_encoders: dict[str, ClipEncoder] = {}
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


def clip_encoder_for(model_name: str, revision: str) -> ClipEncoder:
    configured = get_clip_encoder()
    if configured.model_name == model_name and configured.revision == revision:
        return configured
    key = f"{model_name}@{revision}"
    with _lock:
        encoder = _encoders.get(key)
        if encoder is None:
            encoder = _encoders[key] = ClipEncoder(
                model_name,
                revision or None,
                quantize_int8=settings.CLIP_QUANTIZE_INT8,
                threads=settings.TORCH_THREADS,
                batch_size=settings.EMBED_BATCH_SIZE,
                device=settings.CLIP_DEVICE,
            )
    return encoder


def reset() -> None:
    with _lock:
        _encoders.clear()
        _generation_models.clear()
    forget_aliases()


def record_generation(
    *, kind: str, collection: str, model_name: str, revision: str, model_key: str, dim: int
) -> IndexGeneration:
    generation, _ = IndexGeneration.objects.update_or_create(
        collection=collection,
        defaults={
            "kind": kind,
            "model_name": model_name,
            "model_revision": revision,
            "model_key": model_key,
            "dim": dim,
        },
    )
    return generation


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
    target = image_collection_name(encoder.model_key)
    with _lock:
        index.ensure_collection(target, dense={IMAGE_VECTOR: encoder.dim})
        record_generation(
            kind=IndexGeneration.Kind.IMAGES,
            collection=target,
            model_name=encoder.model_name,
            revision=encoder.revision,
            model_key=encoder.model_key,
            dim=encoder.dim,
        )
        index.set_alias(alias, target)
    forget_aliases()
    return target, encoder


def live_products(index: VectorIndex | None = None) -> tuple[str, TextEncoder]:
    index = index or get_vector_index()
    alias = products_alias()
    encoder = get_text_encoder()
    target = resolve(alias, index)
    if target is not None:
        return target, encoder
    target = product_collection_name(encoder.model_key)
    with _lock:
        index.ensure_collection(target, dense={TEXT_VECTOR: encoder.dim}, sparse=(KEYWORD_VECTOR,))
        record_generation(
            kind=IndexGeneration.Kind.PRODUCTS,
            collection=target,
            model_name=encoder.model_name,
            revision=encoder.revision,
            model_key=encoder.model_key,
            dim=encoder.dim,
        )
        index.set_alias(alias, target)
    forget_aliases()
    return target, encoder


def live_image_encoder_if_any(index: VectorIndex | None = None) -> tuple[str | None, ClipEncoder]:
    """For queries: the live collection (None when nothing is indexed yet) and its encoder."""
    index = index or get_vector_index()
    target = resolve(images_alias(), index)
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
