"""The search service: text, photo, hybrid and more-like-this queries.

A query runs one or more legs, each a ranked list of products:
- `image`: a CLIP vector (the text's, the photo's, or their weighted mix) against image
  points, one hit per product (its best image);
- `text`: the product-text embedding of the words against product points;
- `keywords`: the BM25-style sparse vector of the words against product points.
A photo-only query is the image leg alone, ranked by cosine similarity. Several legs are
fused by weighted reciprocal rank fusion: score = sum over legs of w_leg / (SEARCH_RRF_K + rank).
"""

import hashlib
import logging
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import OuterRef, Subquery
from PIL import Image

from catalog.models import Product, ProductImage
from search import generations
from search.encoders import ClipEncoder, ModelUnavailable
from search.keywords import keyword_query_vector
from search.models import ImageEmbedding
from search.query_cache import EmbeddingCache
from search.query_trace import unit
from search.text_encoder import get_text_encoder
from search.vector_index import get_vector_index
from search.vector_index.base import Hit, SearchFilter, SparseVec

logger = logging.getLogger(__name__)

LEGS = ("image", "text", "keywords")
PRICE_BANDS: tuple[tuple[float, float | None], ...] = (
    (0, 25),
    (25, 50),
    (50, 100),
    (100, 250),
    (250, 500),
    (500, None),
)

# What a search reads from an image hit besides the product id: the matched image, shown on
# the result. Reading payloads is most of a deep query's cost, so nothing else is fetched.
IMAGE_HIT_FIELDS = ("image_id", "file", "thumbnail")

_text_cache = EmbeddingCache(settings.SEARCH_TEXT_CACHE_SIZE)


CLIP_OFF_NOTICE = (
    "Image search is off: the CLIP model is not available on this server (see CLIP_MODEL), "
    "so results come from product text and keywords only."
)


class SearchInputError(ValueError):
    """A request the service cannot answer as asked; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SearchQuery:
    text: str | None = None
    image: Image.Image | None = None
    negative: str | None = None
    text_weight: float | None = None  # share of the text in a text+photo query
    filter: SearchFilter = SearchFilter()
    limit: int = 20
    offset: int = 0
    min_score: float | None = None
    leg_weights: dict[str, float] | None = None  # None: settings; 0 switches a leg off
    similar_to: int | None = None  # product id, for more-like-this
    image_fingerprint: str = ""

    @property
    def kind(self) -> str:
        if self.similar_to is not None:
            return "similar"
        if self.image is not None:
            return "hybrid" if self.text else "photo"
        return "text"


@dataclass
class ResultItem:
    product_id: int
    score: float
    image_id: int | None
    legs: dict[str, int]  # leg -> rank (1-based) where the product appeared
    leg_scores: dict[str, float]
    product: Product | None = None
    image_url: str | None = None
    thumbnail_url: str | None = None
    reranked_by: str | None = None
    image_file: str | None = None  # storage names of the matched image, from the point payload
    thumbnail_file: str | None = None


@dataclass
class SearchOutcome:
    query_type: str
    items: list[ResultItem]
    total: int
    facets: dict
    stages: dict[str, float]
    legs: list[str]
    notices: list[str] = field(default_factory=list)
    reranked: bool = False
    rerank_model: str | None = None
    rerank_reason: str | None = None

    @property
    def took_ms(self) -> float:
        return round(sum(self.stages.values()), 2)


class _Unavailable:
    """Stands in for an encoder that could not be loaded; raises its error when used."""

    def __init__(self, error: ModelUnavailable) -> None:
        self.error = error

    def __getattr__(self, name: str):
        raise self.error


class _Stopwatch:
    def __init__(self) -> None:
        self.stages: dict[str, float] = {}

    def measure(self, stage: str):
        watch = self

        class _Span:
            def __enter__(self):
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                elapsed = (time.perf_counter() - self.start) * 1000
                watch.stages[stage] = round(watch.stages.get(stage, 0.0) + elapsed, 3)

        return _Span()


def default_leg_weights() -> dict[str, float]:
    return {
        "image": settings.SEARCH_WEIGHT_IMAGE,
        "text": settings.SEARCH_WEIGHT_TEXT,
        "keywords": settings.SEARCH_WEIGHT_KEYWORDS,
    }


def clip_text_vector(text: str, encoder: ClipEncoder) -> np.ndarray:
    return _text_cache.get_or_compute(
        ("clip", encoder.model_key, text), lambda: encoder.encode_text_query(text)
    )


def product_text_vector(text: str) -> np.ndarray:
    encoder = get_text_encoder()
    return _text_cache.get_or_compute(
        ("text", encoder.model_key, text), lambda: encoder.encode_query(text)
    )


_encode_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="search-encode")


def _product_text_query_vector(text: str, negative: str | None) -> np.ndarray:
    vector = product_text_vector(text)
    if negative:
        vector = unit(vector - settings.SEARCH_NEGATIVE_WEIGHT * product_text_vector(negative))
    return vector


def _by_score(hits: list[Hit]) -> list[Hit]:
    """Best first, ties by product id (as grouped queries order them), for stable fusion."""
    return sorted(hits, key=lambda hit: (-hit.score, int(hit.payload["product_id"])))


def search(query: SearchQuery) -> SearchOutcome:
    watch = _Stopwatch()
    weights = {**default_leg_weights(), **(query.leg_weights or {})}
    notices: list[str] = []
    depth = max(settings.SEARCH_FUSION_DEPTH, query.offset + query.limit)

    index = get_vector_index()
    try:
        live_images, clip = generations.live_image_encoder_if_any(index)
    except ModelUnavailable as exc:
        # Text searches go on without the image leg; whatever touches the encoder raises.
        live_images, clip = None, cast(ClipEncoder, _Unavailable(exc))
    live_products = generations.resolve(generations.products_alias(), index)

    search_filter = query.filter
    if query.similar_to is not None:
        search_filter = replace(
            search_filter,
            exclude_product_ids=(*search_filter.exclude_product_ids, query.similar_to),
        )

    # --- encode. The product legs (MiniLM, then the text and keyword queries on the product
    # collection) run in a second thread meanwhile: torch releases the GIL, so they cost
    # little wall time beside CLIP and the image leg (bench/search.md).
    leg_hits: dict[str, list[Hit]] = {}
    image_vector: np.ndarray | None = None
    product_legs: Future | None = None
    with watch.measure("encode"):
        plan = _plan_product_legs(query, weights, live_products)
        if live_products is not None and (plan.text or plan.sparse is not None):
            product_legs = _encode_pool.submit(
                _run_product_legs, plan, live_products, search_filter, depth
            )
        try:
            if query.similar_to is not None:
                image_vector = _similar_vector(query.similar_to, clip.model_key)
                if image_vector is None:
                    raise SearchInputError(
                        "product",
                        "This product has no indexed images yet, so nothing can be compared to it.",
                    )
            else:
                image_vector, clip_notice = _clip_vector(
                    query, weights, clip, has_images=live_images is not None
                )
                if clip_notice:
                    notices.append(clip_notice)
        except BaseException:
            if product_legs is not None:
                product_legs.cancel()  # if it has not started; its answer is not wanted
            raise
    if live_images is None:
        image_vector = None  # nothing has been indexed yet

    # --- vector search
    single_leg = product_legs is None
    with watch.measure("vector_search"):
        if image_vector is not None and live_images is not None:
            fetch = query.offset + query.limit if single_leg else depth
            start = query.offset if single_leg else 0
            leg_hits["image"] = index.query(
                live_images,
                vector_name=generations.IMAGE_VECTOR,
                vector=image_vector,
                filter=search_filter,
                limit=fetch - start,
                offset=start,
                score_threshold=query.min_score,
                exact=settings.SEARCH_EXACT,
                payload_fields=IMAGE_HIT_FIELDS,
            )
        if product_legs is not None:
            leg_hits.update(product_legs.result())
        if single_leg and "image" in leg_hits:
            page = [
                _item_from_hit(hit, "image", query.offset + i + 1)
                for i, hit in enumerate(leg_hits["image"])
            ]
        else:
            page = fuse(leg_hits, weights)[query.offset : query.offset + query.limit]
        total, facets = _totals_and_facets(live_products, search_filter)

    # --- hydrate
    with watch.measure("hydrate"):
        page = hydrate(page)

    return SearchOutcome(
        query_type=query.kind,
        items=page,
        total=total,
        facets=facets,
        stages=watch.stages,
        legs=sorted(leg_hits),
        notices=notices,
    )


@dataclass(frozen=True)
class _ProductLegsPlan:
    """What the product collection is asked: the words for the text leg (None: no text leg)
    and the keyword vector (None: no keyword leg, e.g. no word is known to the index)."""

    text: str | None
    negative: str | None
    sparse: SparseVec | None


def _plan_product_legs(
    query: SearchQuery, weights: dict[str, float], live_products: str | None
) -> _ProductLegsPlan:
    if not query.text or live_products is None or query.similar_to is not None:
        return _ProductLegsPlan(None, None, None)
    sparse = keyword_query_vector(query.text) if weights.get("keywords", 0) > 0 else None
    return _ProductLegsPlan(
        text=query.text if weights.get("text", 0) > 0 else None,
        negative=query.negative,
        sparse=sparse if sparse is not None and sparse.indices else None,
    )


def _run_product_legs(
    plan: _ProductLegsPlan, collection: str, search_filter: SearchFilter, depth: int
) -> dict[str, list[Hit]]:
    legs: list[tuple[str, str, np.ndarray | SparseVec]] = []
    if plan.text:
        vector = _product_text_query_vector(plan.text, plan.negative)
        legs.append(("text", generations.TEXT_VECTOR, vector))
    if plan.sparse is not None:
        legs.append(("keywords", generations.KEYWORD_VECTOR, plan.sparse))
    index = get_vector_index()
    return {
        leg: _by_score(
            index.query(
                collection,
                vector_name=vector_name,
                vector=vector,
                filter=search_filter,
                limit=depth,
                group_by_product=False,  # one point per product already
                payload_fields=(),  # the product id is all fusion needs
            )
        )
        for leg, vector_name, vector in legs
    }


def _clip_vector(
    query: SearchQuery, weights: dict[str, float], encoder: ClipEncoder, *, has_images: bool
) -> tuple[np.ndarray | None, str | None]:
    """The image leg's query vector, or None with a notice when CLIP cannot run."""
    wants_text_leg = bool(query.text) and weights.get("image", 0) > 0
    if query.image is None and not wants_text_leg:
        return None, None
    if query.image is None and not has_images:
        # No image is indexed yet: the words need no CLIP vector, but the shopper should
        # hear why photos will not work (a failed load is remembered, so this is cheap).
        try:
            encoder.load()
        except ModelUnavailable:
            return None, CLIP_OFF_NOTICE
        return None, None
    try:
        photo = encoder.encode_images([query.image])[0] if query.image is not None else None
        words = clip_text_vector(query.text, encoder) if query.text else None
        if query.negative and words is not None:
            words = unit(
                words - settings.SEARCH_NEGATIVE_WEIGHT * clip_text_vector(query.negative, encoder)
            )
    except ModelUnavailable as exc:
        if query.image is not None:
            raise
        logger.info("CLIP unavailable; text search runs on the text legs only: %s", exc)
        return None, CLIP_OFF_NOTICE
    if photo is not None and words is not None:
        weight = 0.5 if query.text_weight is None else query.text_weight
        return unit(weight * words + (1 - weight) * photo), None
    return (photo if photo is not None else words), None


def _similar_vector(product_id: int, model_key: str) -> np.ndarray | None:
    """The mean of a product's stored image vectors for the live model."""
    rows = ImageEmbedding.objects.filter(image__product_id=product_id, model_key=model_key)
    vectors = [row.as_array() for row in rows]
    if not vectors:
        return None
    return unit(np.mean(np.stack(vectors), axis=0))


def _item_from_hit(hit: Hit, leg: str, rank: int) -> ResultItem:
    return ResultItem(
        product_id=int(hit.payload["product_id"]),
        score=float(hit.score),
        image_id=hit.payload.get("image_id"),
        legs={leg: rank},
        leg_scores={leg: float(hit.score)},
        image_file=hit.payload.get("file"),
        thumbnail_file=hit.payload.get("thumbnail"),
    )


def fuse(leg_hits: dict[str, list[Hit]], weights: dict[str, float]) -> list[ResultItem]:
    """Weighted reciprocal rank fusion; ties broken by product id for stable pages."""
    items: dict[int, ResultItem] = {}
    rrf_k = settings.SEARCH_RRF_K
    for leg, hits in leg_hits.items():
        weight = weights.get(leg, 0.0)
        for rank, hit in enumerate(hits, start=1):
            product_id = int(hit.payload["product_id"])
            item = items.get(product_id)
            if item is None:
                item = items[product_id] = ResultItem(
                    product_id=product_id, score=0.0, image_id=None, legs={}, leg_scores={}
                )
            item.score += weight / (rrf_k + rank)
            item.legs[leg] = rank
            item.leg_scores[leg] = float(hit.score)
            if leg == "image":
                item.image_id = hit.payload.get("image_id")
                item.image_file = hit.payload.get("file")
                item.thumbnail_file = hit.payload.get("thumbnail")
    ranked = sorted(items.values(), key=lambda item: (-item.score, item.product_id))
    for item in ranked:
        item.score = round(item.score, 6)
    return ranked


FACETS_TTL_SECONDS = 10.0
_facets_cache: dict[tuple[str, SearchFilter], tuple[float, int, dict]] = {}


def _totals_and_facets(collection: str | None, search_filter: SearchFilter) -> tuple[int, dict]:
    """Totals and facets depend on the filters only, not on the words or the photo: shoppers
    paging or refining a query reuse them for a few seconds (bench/search.md: 13-18 ms each)."""
    if collection is None:
        return 0, {"category": {}, "brand": {}, "price": []}
    key = (collection, search_filter)
    cached = _facets_cache.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < FACETS_TTL_SECONDS:
        return cached[1], cached[2]
    total, facets = _count_totals_and_facets(collection, search_filter)
    if len(_facets_cache) > 1024:
        _facets_cache.clear()
    _facets_cache[key] = (now, total, facets)
    return total, facets


def clear_caches() -> None:
    _text_cache.clear()
    _facets_cache.clear()


def _count_totals_and_facets(collection: str, search_filter: SearchFilter) -> tuple[int, dict]:
    """Counts of the products that match the filters, from the product points."""
    index = get_vector_index()
    total = index.count(collection, search_filter)
    facets = {
        "category": index.facets(collection, "category", search_filter),
        "brand": index.facets(collection, "brand", search_filter),
        "price": _price_bands(index, collection, search_filter),
    }
    return total, facets


def _price_bands(index, collection: str, search_filter: SearchFilter) -> list[dict]:
    bands = []
    for low, high in PRICE_BANDS:
        lo = max(low, search_filter.price_min) if search_filter.price_min is not None else low
        hi = high
        if search_filter.price_max is not None:
            hi = search_filter.price_max if high is None else min(high, search_filter.price_max)
        if hi is not None and lo > hi:
            count = 0
        else:
            band_filter = replace(search_filter, price_min=lo, price_max=hi)
            count = index.count(collection, band_filter)
            if high is not None and count and hi == high:
                # Bands are half-open [low, high): take out the products priced exactly `high`.
                edge = replace(search_filter, price_min=high, price_max=high)
                count -= index.count(collection, edge)
        bands.append({"min": low, "max": high, "count": count})
    return bands


def hydrate(items: Sequence[ResultItem]) -> list[ResultItem]:
    """Attach products, image and thumbnail URLs, in one database query."""
    if not items:
        return []
    first_image = ProductImage.objects.filter(product=OuterRef("pk")).order_by("position", "id")
    products = {
        product.pk: product
        for product in Product.objects.filter(
            pk__in=[item.product_id for item in items], is_active=True
        )
        .select_related("merchant")
        .annotate(
            first_image_id=Subquery(first_image.values("id")[:1]),
            first_image_file=Subquery(first_image.values("file")[:1]),
            first_image_thumb=Subquery(first_image.values("thumbnail")[:1]),
        )
    }
    hydrated = []
    for item in items:
        product = products.get(item.product_id)
        if product is None:
            continue  # deleted or deactivated since it was indexed
        item.product = product
        file_name, thumb_name = item.image_file, item.thumbnail_file
        if not file_name:
            item.image_id = product.first_image_id
            file_name, thumb_name = product.first_image_file, product.first_image_thumb
        if file_name:
            item.image_url = default_storage.url(file_name)
            item.thumbnail_url = default_storage.url(thumb_name or file_name)
        hydrated.append(item)
    return hydrated


def image_fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]
