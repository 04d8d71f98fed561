"""Search API v1: the contract the storefront and the mobile apps share."""

import json
import logging
import time
from typing import Any, cast

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ParseError, Throttled, ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.intake import ImageRejected, decode_query_image, read_upload
from catalog.models import Product
from config.api import ServiceUnavailable
from config.metrics import SEARCH_STAGE_SECONDS, SEARCHES
from search import query as search_service
from search.encoders import ModelUnavailable
from search.rerank_step import rerank_outcome
from search.throttles import RerankThrottle, SearchPhotoThrottle, SearchTextThrottle
from search.uploads import InMemoryCappedUploadHandler
from search.vector_index.base import SearchFilter, VectorStoreUnavailable

logger = logging.getLogger(__name__)


class FiltersSerializer(serializers.Serializer):
    category = serializers.ListField(
        child=serializers.CharField(max_length=120),
        required=False,
        max_length=50,
        help_text="One category or several (any of them).",
    )
    brand = serializers.ListField(
        child=serializers.CharField(max_length=120),
        required=False,
        max_length=50,
        help_text="One brand or several (any of them).",
    )
    merchant = serializers.SlugField(required=False, help_text="Merchant slug.")
    price_min = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False
    )
    price_max = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False
    )
    in_stock = serializers.BooleanField(required=False, allow_null=True, default=None)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise ValidationError("Expected an object of filters.")
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise ValidationError(
                {
                    name: f"Unknown filter; known filters: {', '.join(self.fields)}."
                    for name in unknown
                }
            )
        data = dict(data)
        for many in ("category", "brand"):
            if isinstance(data.get(many), str):
                data[many] = [data[many]]
        return super().to_internal_value(data)

    def validate(self, attrs):
        low, high = attrs.get("price_min"), attrs.get("price_max")
        if low is not None and high is not None and low > high:
            raise ValidationError({"price_min": "price_min is above price_max."})
        return attrs


class LegWeightsSerializer(serializers.Serializer):
    image = serializers.FloatField(min_value=0, max_value=10, required=False)
    text = serializers.FloatField(min_value=0, max_value=10, required=False)
    keywords = serializers.FloatField(min_value=0, max_value=10, required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise ValidationError(
                    {name: "Unknown leg; legs are image, text and keywords." for name in unknown}
                )
        return super().to_internal_value(data)


class SearchInputSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=settings.SEARCH_MAX_TEXT_LENGTH,
        required=False,
        allow_blank=True,
        trim_whitespace=True,
    )
    not_ = serializers.CharField(
        max_length=settings.SEARCH_MAX_TEXT_LENGTH,
        required=False,
        allow_blank=True,
        source="negative",
        help_text=f"Negative text: moves the query away from this concept, q' = normalise(q - {settings.SEARCH_NEGATIVE_WEIGHT} * not).",
    )
    filters = FiltersSerializer(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=settings.SEARCH_MAX_LIMIT, default=20)
    offset = serializers.IntegerField(min_value=0, max_value=10_000, default=0)
    min_score = serializers.FloatField(
        min_value=-1,
        max_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="Minimum cosine similarity of the image leg.",
    )
    text_weight = serializers.FloatField(
        min_value=0,
        max_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="Share of the text in a text+photo query (default 0.5).",
    )
    weights = LegWeightsSerializer(
        required=False, help_text="Per-request leg weights for fusion (0 switches a leg off)."
    )
    rerank = serializers.BooleanField(default=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["not"] = self.fields.pop("not_")

    def validate(self, attrs):
        if attrs.get("text_weight") is not None and not self.context.get("has_image"):
            raise ValidationError({"text_weight": "text_weight needs both a text and an image."})
        return attrs


class SearchPhotoInputSerializer(SearchInputSerializer):
    image = serializers.FileField(
        required=False, help_text="The shopper's photo: JPEG, PNG or WebP. Kept in memory only."
    )


class ResultSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    title = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    brand = serializers.CharField()
    category = serializers.CharField()
    merchant = serializers.CharField(help_text="Merchant slug.")
    merchant_name = serializers.CharField()
    in_stock = serializers.BooleanField()
    image_id = serializers.IntegerField(allow_null=True)
    image_url = serializers.CharField(allow_null=True)
    thumbnail_url = serializers.CharField(allow_null=True)
    score = serializers.FloatField()
    legs = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Rank of this product in each leg that found it.",
    )
    reranked_by = serializers.CharField(
        allow_null=True, help_text="The model that re-ordered this result, when one did."
    )


class PriceBandSerializer(serializers.Serializer):
    min = serializers.FloatField()
    max = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class FacetsSerializer(serializers.Serializer):
    category = serializers.DictField(child=serializers.IntegerField())
    brand = serializers.DictField(child=serializers.IntegerField())
    price = PriceBandSerializer(many=True)


class SearchOutputSerializer(serializers.Serializer):
    query_type = serializers.ChoiceField(choices=["text", "photo", "hybrid", "similar"])
    results = ResultSerializer(many=True)
    total = serializers.IntegerField(help_text="Products that match the filters.")
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    facets = FacetsSerializer()
    legs = serializers.ListField(child=serializers.CharField())
    took_ms = serializers.FloatField()
    stages = serializers.DictField(
        child=serializers.FloatField(),
        help_text=(
            "Milliseconds per stage: decode (reading and checking the shopper's photo, for a "
            "photo query), encode (CLIP; the product-text and keyword legs run "
            "beside it in a second thread), vector_search (the image leg, then whatever the "
            "product legs still need, totals and facets), hydrate, rerank. They add up to "
            "took_ms."
        ),
    )
    reranked = serializers.BooleanField()
    rerank_model = serializers.CharField(allow_null=True)
    rerank_reason = serializers.CharField(allow_null=True)
    notices = serializers.ListField(child=serializers.CharField())


def _filter_from(data: dict) -> SearchFilter:
    return SearchFilter(
        categories=tuple(data.get("category") or ()),
        brands=tuple(data.get("brand") or ()),
        merchant=data.get("merchant") or None,
        price_min=float(data["price_min"]) if data.get("price_min") is not None else None,
        price_max=float(data["price_max"]) if data.get("price_max") is not None else None,
        in_stock=data.get("in_stock"),
    )


def _result(item: search_service.ResultItem) -> dict:
    product = item.product
    assert product is not None  # hydrate() drops items without a product
    return {
        "product_id": item.product_id,
        "title": product.title,
        "price": product.price,
        "currency": product.currency,
        "brand": product.brand,
        "category": product.category,
        "merchant": product.merchant.slug,
        "merchant_name": product.merchant.name,
        "in_stock": product.in_stock,
        "image_id": item.image_id,
        "image_url": item.image_url,
        "thumbnail_url": item.thumbnail_url,
        "score": item.score,
        "legs": item.legs,
        "reranked_by": item.reranked_by,
    }


def _render(outcome: search_service.SearchOutcome, *, limit: int, offset: int) -> dict:
    return {
        "query_type": outcome.query_type,
        "results": [_result(item) for item in outcome.items],
        "total": outcome.total,
        "limit": limit,
        "offset": offset,
        "facets": outcome.facets,
        "legs": outcome.legs,
        "took_ms": outcome.took_ms,
        "stages": outcome.stages,
        "reranked": outcome.reranked,
        "rerank_model": outcome.rerank_model,
        "rerank_reason": outcome.rerank_reason,
        "notices": outcome.notices,
    }


def _run(
    query: search_service.SearchQuery,
    *,
    rerank: bool,
    request: Request,
    view,
    decode_ms: float | None = None,
) -> Response:
    if rerank and not RerankThrottle().allow_request(request, view):
        raise Throttled(
            detail="Too many re-ranked searches; try again shortly or search without rerank."
        )
    try:
        outcome = search_service.search(query)
        if rerank:
            rerank_outcome(query, outcome)
        else:
            outcome.rerank_reason = "not requested"
    except search_service.SearchInputError as exc:
        raise ValidationError({exc.field: str(exc)}) from None
    except VectorStoreUnavailable as exc:
        logger.warning("vector store unavailable: %s", exc)
        raise ServiceUnavailable(
            "The search index is not answering right now; try again shortly."
        ) from None
    except ModelUnavailable as exc:
        raise ServiceUnavailable(f"Photo search is not available on this server: {exc}") from None
    if decode_ms is not None:
        outcome.stages = {"decode": round(decode_ms, 3), **outcome.stages}
    SEARCHES.labels(query_type=outcome.query_type).inc()
    for stage, milliseconds in outcome.stages.items():
        SEARCH_STAGE_SECONDS.labels(stage=stage).observe(milliseconds / 1000)
    return Response(_render(outcome, limit=query.limit, offset=query.offset))


class SearchApi(APIView):
    """Search by text, by photo (multipart), or both."""

    permission_classes = [AllowAny]
    parser_classes = [JSONParser, MultiPartParser]
    throttle_classes = [SearchTextThrottle, SearchPhotoThrottle]

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body: the shopper's photo must never touch the disk.
        request.upload_handlers = [InMemoryCappedUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        operation_id="search",
        request={
            "application/json": SearchInputSerializer,
            "multipart/form-data": SearchPhotoInputSerializer,
        },
        responses={200: SearchOutputSerializer},
        description=(
            "JSON for a text query; multipart with `image` (and optional `text`, `text_weight`) for a photo "
            "or hybrid query. In multipart, `filters` and `weights` are JSON strings."
        ),
    )
    def post(self, request: Request) -> Response:
        try:
            raw = request.data
        except ParseError as exc:
            raise ValidationError({"body": f"Malformed request body: {exc.detail}"}) from None
        is_multipart = bool(request.content_type and request.content_type.startswith("multipart/"))
        data = self._multipart_fields(request) if is_multipart else raw
        if not isinstance(data, dict):
            raise ValidationError({"body": "Expected a JSON object."})
        upload = request.FILES.get("image") if is_multipart else None
        serializer = SearchInputSerializer(data=data, context={"has_image": upload is not None})
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        text = (values.get("text") or "").strip() or None
        if text is None and upload is None:
            raise ValidationError({"text": "Give a text, an image, or both."})

        image = None
        fingerprint = ""
        decode_ms = None
        if upload is not None:
            # The shopper's photo is read into memory, checked and decoded there; it is never
            # written to disk, storage or logs.
            started = time.perf_counter()
            try:
                content = read_upload(upload)
                image = decode_query_image(content)
            except ImageRejected as exc:
                raise ValidationError({"image": exc.detail}) from None
            fingerprint = search_service.image_fingerprint(content)
            del content
            decode_ms = (time.perf_counter() - started) * 1000

        query = search_service.SearchQuery(
            text=text,
            image=image,
            negative=(values.get("negative") or "").strip() or None,
            text_weight=values.get("text_weight"),
            filter=_filter_from(values.get("filters") or {}),
            limit=values["limit"],
            offset=values["offset"],
            min_score=values.get("min_score"),
            leg_weights=values.get("weights") or None,
            image_fingerprint=fingerprint,
        )
        return _run(query, rerank=values["rerank"], request=request, view=self, decode_ms=decode_ms)

    @staticmethod
    def _multipart_fields(request: Request) -> dict:
        data: dict = {}
        form = cast(dict, request.data)
        for key in form:
            if key == "image":
                continue
            value = form.get(key)
            if key in ("filters", "weights") and isinstance(value, str):
                try:
                    value = json.loads(value) if value.strip() else {}
                except json.JSONDecodeError:
                    raise ValidationError({key: "Must be a JSON object."}) from None
            data[key] = value
        return data


class ProductSimilarApi(APIView):
    """More like this: products whose images look like this product's images."""

    permission_classes = [AllowAny]
    throttle_classes = [SearchTextThrottle]

    @extend_schema(
        operation_id="products_similar",
        parameters=[
            OpenApiParameter(
                "limit", int, description=f"1..{settings.SEARCH_MAX_LIMIT}, default 20"
            ),
            OpenApiParameter("offset", int, description="default 0"),
            OpenApiParameter("category", str, many=True),
            OpenApiParameter("brand", str, many=True),
            OpenApiParameter("merchant", str),
            OpenApiParameter("price_min", float),
            OpenApiParameter("price_max", float),
            OpenApiParameter("in_stock", bool),
        ],
        responses={200: SearchOutputSerializer},
    )
    def get(self, request: Request, product_id: int) -> Response:
        if not Product.objects.filter(pk=product_id, is_active=True).exists():
            raise Http404
        params = request.query_params
        raw_filters: dict[str, Any] = {}
        for name in ("category", "brand"):
            if name in params:
                raw_filters[name] = params.getlist(name)
        for name in ("merchant", "price_min", "price_max", "in_stock"):
            if name in params:
                raw_filters[name] = params[name]
        unknown = sorted(
            set(params)
            - {
                "limit",
                "offset",
                "category",
                "brand",
                "merchant",
                "price_min",
                "price_max",
                "in_stock",
                "format",
            }
        )
        if unknown:
            raise ValidationError({name: "Unknown parameter." for name in unknown})
        paging = SearchInputSerializer(
            data={
                "limit": params.get("limit", 20),
                "offset": params.get("offset", 0),
                "filters": raw_filters,
            }
        )
        paging.is_valid(raise_exception=True)
        values = paging.validated_data
        query = search_service.SearchQuery(
            similar_to=product_id,
            filter=_filter_from(values.get("filters") or {}),
            limit=values["limit"],
            offset=values["offset"],
        )
        return _run(query, rerank=False, request=request, view=self)
