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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import cast

import numpy as np
from django.conf import settings

from search.encoding.base import ModelUnavailable
from search.encoding.clip import ClipEncoder
from search.encoding.keywords import keyword_weighted_query_vector
from search.encoding.registry import get_text_encoder
from search.encoding.vectors import unit
from search.index import generations
from search.index.documents import IMAGE_VECTOR, KEYWORD_VECTOR, TEXT_VECTOR
from search.models import ImageEmbedding
from search.query.cache import EmbeddingCache
from search.query.diversity import image_vectors, mmr
from search.query.facets import clear_facets_cache, totals_and_facets
from search.query.fusion import by_score, default_leg_weights, fuse, item_from_hit
from search.query.hydrate import hydrate
from search.query.rules_step import AppliedRule, apply_rankers, expand_words, rankers_wanted
from search.query.types import ResultItem, SearchInputError, SearchOutcome, SearchQuery
from search.query.understanding import Understanding, understand
from search.query.vocabulary import clear_vocabularies
from search.vector_index import get_vector_index
from search.vector_index.base import Hit, SearchFilter, SparseVec

logger = logging.getLogger(__name__)

# What a search reads from an image hit besides the product id: the matched image, shown on
# the result. Reading payloads is most of a deep query's cost, so nothing else is fetched.
IMAGE_HIT_FIELDS = ("image_id", "file", "thumbnail")

_text_cache = EmbeddingCache(settings.SEARCH_TEXT_CACHE_SIZE)


CLIP_OFF_NOTICE = (
    "Image search is off: the CLIP model is not available on this server (see CLIP_MODEL), "
    "so results come from product text and keywords only."
)


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


def search(query: SearchQuery) -> SearchOutcome:
    watch = _Stopwatch()
    weights = {**default_leg_weights(), **(query.leg_weights or {})}
    notices: list[str] = []
    depth = max(settings.SEARCH_FUSION_DEPTH, query.offset + query.limit)

    index = get_vector_index()
    try:
        live_images, clip = generations.live_image_encoder_if_any(
            index, collection=query.image_collection
        )
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

    # --- understand the words: identifiers, typos, recognised names (before any leg runs)
    understood = Understanding(text=query.text or "")
    if (
        query.text
        and query.similar_to is None
        and query.understand
        and settings.SEARCH_QUERY_UNDERSTANDING
    ):
        with watch.measure("understand"):
            understood = understand(query.text, search_filter, correct=query.correct)
        query = replace(query, text=understood.text)
    applied_rules: list[AppliedRule] = []
    if query.text and query.similar_to is None and query.rules:
        # Synonyms: more words for the keyword and product-text legs (rules_step.py).
        with watch.measure("rules"):
            more_words, applied_rules = expand_words(query.text, search_filter)
        understood = replace(understood, expansions=(*understood.expansions, *more_words))

    # --- encode. The product legs (MiniLM, then the text and keyword queries on the product
    # collection) run in a second thread meanwhile: torch releases the GIL, so they cost
    # little wall time beside CLIP and the image leg (bench/search.md).
    leg_hits: dict[str, list[Hit]] = {}
    image_vector: np.ndarray | None = None
    product_legs: Future | None = None
    with watch.measure("encode"):
        plan = _plan_product_legs(query, weights, live_products, understood)
        if live_products is not None and (plan.text or plan.sparse is not None):
            product_legs = _encode_pool.submit(
                _run_product_legs,
                plan,
                live_products,
                search_filter,
                depth,
                _payload_for(understood),
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
    # Diversity and rules (a photo search's pins, boosts, hides: rules_step.py) re-order a
    # deeper list than the page, so they go the fused way.
    single_leg = product_legs is None and not query.diversity and not rankers_wanted(query)
    with watch.measure("vector_search"):
        if image_vector is not None and live_images is not None:
            fetch = query.offset + query.limit if single_leg else depth
            start = query.offset if single_leg else 0
            leg_hits["image"] = index.query(
                live_images,
                vector_name=IMAGE_VECTOR,
                vector=image_vector,
                filter=search_filter,
                limit=fetch - start,
                offset=start,
                score_threshold=query.min_score,
                exact=settings.SEARCH_EXACT,
                payload_fields=(*IMAGE_HIT_FIELDS, *_payload_for(understood)),
            )
        if product_legs is not None:
            leg_hits.update(product_legs.result())
        if single_leg and "image" in leg_hits:
            page = [
                item_from_hit(hit, "image", query.offset + i + 1)
                for i, hit in enumerate(leg_hits["image"])
            ]
        else:
            if understood.identifier_prefix_ids:
                leg_hits["identifier"] = _identifier_hits(understood.identifier_prefix_ids)
                weights["identifier"] = settings.SEARCH_WEIGHT_IDENTIFIER_PREFIX
            ranked = fuse(leg_hits, weights, _booster(understood), rrf_k=query.rrf_k)
            ranked = _identifiers_first(ranked, understood.identifier_ids)
            if query.diversity and live_images is not None:
                ranked = _diversified(ranked, query, live_images)
            if query.rules:
                # Pins, boosts, buries and hides on the whole fused ranking, before the page is
                # cut; the optional VLM re-rank of the page comes after (rules_step.py). Its
                # time counts in vector_search (bench/rules.py measures it on its own).
                ranked, ranked_by = apply_rankers(query, ranked)
                applied_rules += ranked_by
            page = ranked[query.offset : query.offset + query.limit]
        total, facets = totals_and_facets(live_products, search_filter)

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
        corrected=understood.corrected,
        recognised={
            "category": list(understood.categories),
            "brand": list(understood.brands),
            "colour": list(understood.colours),
        },
        query_vector=image_vector,
        model=clip.model_key if image_vector is not None else None,
        rules=list(dict.fromkeys(applied_rules)),
    )


def facets_for(search_filter: SearchFilter) -> tuple[int, dict]:
    """Totals and facet counts of the live products a filter matches (what every search with
    that filter answers: they depend on the filter only)."""
    live_products = generations.resolve(generations.products_alias(), get_vector_index())
    return totals_and_facets(live_products, search_filter)


def _diversified(
    ranked: list[ResultItem], query: SearchQuery, live_images: str
) -> list[ResultItem]:
    """MMR over the top results, at least the page asked for, on the matched image vectors."""
    k = max(query.offset + query.limit, settings.SEARCH_DIVERSITY_DEPTH)
    model_key = live_images[len(generations.images_alias()) + 1 :]
    ids = [item.image_id for item in ranked[:k] if item.image_id is not None]
    return mmr(ranked, image_vectors(ids, model_key), diversity=query.diversity, k=k)


def _payload_for(understood: Understanding) -> tuple[str, ...]:
    """Payload fields a leg's hits must carry for the recognised-word boosts."""
    return ("category", "brand") if understood.categories or understood.brands else ()


def _booster(understood: Understanding):
    """What a product gets for being in a category (of a brand) the words name: a share of a
    first rank in one leg, so it moves products up a few places, never past everything."""
    if not (understood.categories or understood.brands):
        return None
    unit_score = 1.0 / (settings.SEARCH_RRF_K + 1)
    categories, brands = set(understood.categories), set(understood.brands)
    category_boost = settings.SEARCH_BOOST_CATEGORY * unit_score
    brand_boost = settings.SEARCH_BOOST_BRAND * unit_score

    def boost(payload) -> float:
        return category_boost * (payload.get("category") in categories) + brand_boost * (
            payload.get("brand") in brands
        )

    return boost


def _identifier_hits(product_ids: tuple[int, ...]) -> list[Hit]:
    """Products whose identifier starts with the query, as a leg (shortest identifier first)."""
    return [
        Hit(id=str(product_id), score=1.0 / rank, payload={"product_id": product_id})
        for rank, product_id in enumerate(product_ids, start=1)
    ]


def _identifiers_first(ranked: list[ResultItem], product_ids: tuple[int, ...]) -> list[ResultItem]:
    """Exact identifier matches above the fused ranking, whatever the legs made of them: a
    shopper who types a SKU wants that product (docs/relevance.md)."""
    if not product_ids:
        return ranked
    fused = {item.product_id: item for item in ranked}
    first = []
    for product_id in product_ids:
        item = fused.pop(product_id, None) or ResultItem(
            product_id=product_id, score=0.0, image_id=None, legs={}, leg_scores={}
        )
        item.match = "identifier"
        first.append(item)
    return first + [item for item in ranked if item.product_id in fused]


@dataclass(frozen=True)
class _ProductLegsPlan:
    """What the product collection is asked: the words for the text leg (None: no text leg)
    and the keyword vector (None: no keyword leg, e.g. no word is known to the index)."""

    text: str | None
    negative: str | None
    sparse: SparseVec | None


def _plan_product_legs(
    query: SearchQuery,
    weights: dict[str, float],
    live_products: str | None,
    understood: Understanding,
) -> _ProductLegsPlan:
    if not query.text or live_products is None or query.similar_to is not None:
        return _ProductLegsPlan(None, None, None)
    sparse = (
        keyword_weighted_query_vector(understood.keyword_parts())
        if weights.get("keywords", 0) > 0
        else None
    )
    return _ProductLegsPlan(
        text=understood.product_text(query.text) if weights.get("text", 0) > 0 else None,
        negative=query.negative,
        sparse=sparse if sparse is not None and sparse.indices else None,
    )


def _run_product_legs(
    plan: _ProductLegsPlan,
    collection: str,
    search_filter: SearchFilter,
    depth: int,
    payload_fields: tuple[str, ...] = (),
) -> dict[str, list[Hit]]:
    legs: list[tuple[str, str, np.ndarray | SparseVec]] = []
    if plan.text:
        vector = _product_text_query_vector(plan.text, plan.negative)
        legs.append(("text", TEXT_VECTOR, vector))
    if plan.sparse is not None:
        legs.append(("keywords", KEYWORD_VECTOR, plan.sparse))
    index = get_vector_index()
    return {
        leg: by_score(
            index.query(
                collection,
                vector_name=vector_name,
                vector=vector,
                filter=search_filter,
                limit=depth,
                group_by_product=False,  # one point per product already
                # The product id is all fusion needs, unless recognised words boost by payload.
                payload_fields=payload_fields,
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
        words_job: Future[np.ndarray] | None = None
        if query.text and query.image is not None:
            # Hybrid: the text tower runs in another thread while this one runs the vision
            # tower (torch releases the GIL), not one after the other (bench/search.py).
            encoder.load()
            words_job = _encode_pool.submit(_clip_words, query, encoder)
        photo = encoder.encode_images([query.image])[0] if query.image is not None else None
        words: np.ndarray | None = None
        if words_job is not None:
            words = words_job.result()
        elif query.text:
            words = _clip_words(query, encoder)
    except ModelUnavailable as exc:
        if query.image is not None:
            raise
        logger.info("CLIP unavailable; text search runs on the text legs only: %s", exc)
        return None, CLIP_OFF_NOTICE
    if photo is not None and words is not None:
        weight = 0.5 if query.text_weight is None else query.text_weight
        return unit(weight * words + (1 - weight) * photo), None
    return (photo if photo is not None else words), None


def _clip_words(query: SearchQuery, encoder: ClipEncoder) -> np.ndarray:
    assert query.text
    words = clip_text_vector(query.text, encoder)
    if query.negative:
        words = unit(
            words - settings.SEARCH_NEGATIVE_WEIGHT * clip_text_vector(query.negative, encoder)
        )
    return words


def _similar_vector(product_id: int, model_key: str) -> np.ndarray | None:
    """The mean of a product's stored image vectors for the live model."""
    rows = ImageEmbedding.objects.filter(image__product_id=product_id, model_key=model_key)
    vectors = [row.as_array() for row in rows]
    if not vectors:
        return None
    return unit(np.mean(np.stack(vectors), axis=0))


def image_fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def clear_caches() -> None:
    _text_cache.clear()
    clear_facets_cache()
    clear_vocabularies()
