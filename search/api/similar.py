"""``GET /api/v1/products/{id}/similar/``: more like this product."""

from typing import Any

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors as catalog_selectors
from search.api.execute import run_search
from search.api.serializers import SearchInputSerializer, SearchOutputSerializer, filter_from
from search.api.throttles import SearchTextThrottle
from search.query.types import SearchQuery


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
            OpenApiParameter("color", str, many=True),
            OpenApiParameter("merchant", str),
            OpenApiParameter("price_min", float),
            OpenApiParameter("price_max", float),
            OpenApiParameter("in_stock", bool),
        ],
        responses={200: SearchOutputSerializer},
    )
    def get(self, request: Request, product_id: int) -> Response:
        if not catalog_selectors.product_is_active(product_id=product_id):
            raise Http404
        params = request.query_params
        raw_filters: dict[str, Any] = {}
        for name in ("category", "brand", "color"):
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
                "color",
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
        query = SearchQuery(
            similar_to=product_id,
            filter=filter_from(values.get("filters") or {}),
            limit=values["limit"],
            offset=values["offset"],
        )
        return run_search(query, rerank=False, request=request, view=self)
