"""Merchant API for whole catalogues: bulk upsert by SKU, images by URL, and one list of all
the caller's images (what failed, what changed since the last sync)."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors, services
from catalog.apis import (
    IMAGE_STATUS_PARAMETER,
    UPDATED_SINCE_PARAMETER,
    ImageFilterParamsSerializer,
    ImageOutputSerializer,
    MerchantProductListCreateApi,
    ProductInputSerializer,
    QueryIntegerField,
    _caller_product,
)
from catalog.bulk import (
    CSV_TYPES,
    JSON_LINES_TYPES,
    ROW_OUTCOMES,
    BulkFileRejected,
    BulkRow,
    read_rows,
)
from catalog.models import Merchant, ProductImageFetch
from catalog.services import PRODUCT_EDITABLE_FIELDS
from config.parsers import JSONParser, too_large

# --- Bulk upsert ----------------------------------------------------------------------------------


class _RawBodyParser(parsers.BaseParser):
    """The body as bytes (capped at BULK_UPSERT_MAX_BYTES), for catalog/bulk.py to read."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.BULK_UPSERT_MAX_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise too_large(limit)
        return {"body": raw, "media_type": media_type or ""}


class JsonLinesParser(_RawBodyParser):
    media_type = JSON_LINES_TYPES[0]


class JsonLinesAltParser(_RawBodyParser):
    media_type = JSON_LINES_TYPES[1]


class CsvParser(_RawBodyParser):
    media_type = CSV_TYPES[0]


class ProductRowSerializer(ProductInputSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("merchant")


class BulkRowResultSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line of the file (CSV: the header is line 1).")
    sku = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=ROW_OUTCOMES)
    id = serializers.IntegerField(allow_null=True, help_text="The product's id.")
    detail = serializers.CharField(help_text="Why the row failed; empty otherwise.")
    errors = serializers.DictField(  # type: ignore[assignment]  # a field named errors
        child=serializers.CharField(), help_text="The row's errors by field."
    )


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = BulkRowResultSerializer(many=True)


def _row_result(
    row: BulkRow,
    sku: Any,
    outcome: str,
    product_id: int | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    errors = errors or {}
    detail = "; ".join(f"{name}: {message}" for name, message in errors.items())
    return {
        "line": row.line,
        "sku": sku if isinstance(sku, str) else None,
        "status": outcome,
        "id": product_id,
        "detail": detail,
        "errors": errors,
    }


def _first_message(value: Any) -> str:
    while isinstance(value, list | tuple) and value:
        value = value[0]
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_first_message(item)}" for key, item in value.items())
    return str(value)


class MerchantProductBulkUpsertApi(APIView):
    """Create or update many products by SKU in one call."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JsonLinesParser, JsonLinesAltParser, CsvParser]

    @extend_schema(
        operation_id="merchant_products_bulk_upsert",
        parameters=[
            OpenApiParameter(
                "merchant", str, description="Merchant slug; needed only for several merchants"
            )
        ],
        request={
            # Binary: any bytes are a well-formed body; the rows decide what is valid.
            JSON_LINES_TYPES[0]: OpenApiTypes.BINARY,
            CSV_TYPES[0]: OpenApiTypes.BINARY,
        },
        responses={200: BulkResultSerializer},
        description=(
            "One product per JSON line, or per CSV row under a header of field names (sku, "
            "title, price, gtin, mpn, description, brand, category, currency, in_stock, "
            "is_active, attributes as a JSON object). A row whose SKU the merchant has updates "
            "that product's given fields; any other row creates a product (sku, title, price "
            "required). At most BULK_UPSERT_MAX_ROWS rows (1,000 by default) per call. Each "
            "row is saved on its own: the answer lists every row's outcome, and a failed row "
            "does not undo the others. Sending the same file again changes nothing (every row "
            "`unchanged`). In CSV an empty price, currency, in_stock, is_active or attributes "
            "cell means 'not given'."
        ),
    )
    def post(self, request: Request) -> Response:
        data = request.data
        if not isinstance(data, dict) or "body" not in data:
            # DRF runs no parser for an empty body.
            raise ValidationError(
                {"body": "The body is empty; send the rows as JSON lines or CSV."}
            )
        merchant = MerchantProductListCreateApi._merchant_for_create(
            request, str(request.query_params.get("merchant", "")).strip()
        )
        try:
            rows = read_rows(
                data["body"],
                content_type=data["media_type"],
                max_rows=settings.BULK_UPSERT_MAX_ROWS,
            )
        except BulkFileRejected as exc:
            raise ValidationError({"body": exc.detail}) from None
        self._check_columns(rows, data["media_type"])
        results = []
        seen: dict[str, int] = {}
        for row in rows:
            results.append(self._upsert_row(merchant, row, seen))
        counts = dict.fromkeys(ROW_OUTCOMES, 0)
        for result in results:
            counts[result["status"]] += 1
        return Response({**counts, "results": results})

    @staticmethod
    def _check_columns(rows: list[BulkRow], media_type: str) -> None:
        """In CSV an unknown column is a mistake of the whole file (a misspelt header)."""
        if not media_type.startswith("text/csv"):
            return
        columns = {name for row in rows for name in row.data}
        unknown = sorted(columns - set(PRODUCT_EDITABLE_FIELDS))
        if unknown:
            raise ValidationError(
                {"body": f"Unknown column(s): {', '.join(unknown)}; not product fields."}
            )

    @staticmethod
    def _upsert_row(merchant: Merchant, row: BulkRow, seen: dict[str, int]) -> dict:
        if row.error:
            return _row_result(row, None, "failed", errors={"row": row.error})
        sku = row.data.get("sku")
        unknown = sorted(set(row.data) - set(PRODUCT_EDITABLE_FIELDS))
        if unknown:
            return _row_result(
                row, sku, "failed", errors={name: "Not a product field." for name in unknown}
            )
        if not isinstance(sku, str) or not sku.strip():
            return _row_result(row, sku, "failed", errors={"sku": "Every row needs its SKU."})
        if sku.strip() in seen:
            return _row_result(
                row,
                sku,
                "failed",
                errors={"sku": f"This SKU is already on line {seen[sku.strip()]}."},
            )
        seen[sku.strip()] = row.line
        exists = selectors.product_get_by_sku(merchant=merchant, sku=sku.strip()) is not None
        serializer = ProductRowSerializer(data=row.data, partial=exists)
        if not serializer.is_valid():
            errors = {name: _first_message(value) for name, value in serializer.errors.items()}
            return _row_result(row, sku, "failed", errors=errors)
        fields = dict(serializer.validated_data)
        try:
            product, outcome = services.product_upsert(
                merchant=merchant, sku=fields.pop("sku"), data=fields
            )
        except DjangoValidationError as exc:
            errors = {
                name: _first_message(messages)
                for name, messages in getattr(exc, "message_dict", {"row": exc.messages}).items()
            }
            return _row_result(row, sku, "failed", errors=errors)
        return _row_result(row, product.sku, outcome, product.pk)


# --- Images by URL -------------------------------------------------------------------------------


class ImageFetchInputSerializer(serializers.Serializer):
    url = serializers.URLField(
        max_length=2000,
        help_text="http(s) URL of a JPEG, PNG or WebP image on a public address.",
    )
    position = serializers.IntegerField(required=False, min_value=0, max_value=2_147_483_647)


class ImageFetchOutputSerializer(serializers.ModelSerializer):
    image = ImageOutputSerializer(allow_null=True, read_only=True)

    class Meta:
        model = ProductImageFetch
        fields = [
            "id",
            "url",
            "position",
            "status",
            "failure_reason",
            "attempts",
            "image",
            "created_at",
            "updated_at",
        ]


class MerchantProductImageFetchCreateApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="merchant_product_image_fetches_create",
        request=ImageFetchInputSerializer,
        responses={202: ImageFetchOutputSerializer},
        description=(
            "Add an image by URL: a worker downloads it (at most IMAGE_FETCH_MAX_BYTES, within "
            "IMAGE_FETCH_TIMEOUT_SECONDS, public addresses only) and takes it in as an upload. "
            "Poll the fetch, or listen for the image.indexed webhook."
        ),
    )
    def post(self, request: Request, product_id: int) -> Response:
        product = _caller_product(request, product_id)
        serializer = ImageFetchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fetch = services.product_image_fetch_request(
            product=product,
            url=serializer.validated_data["url"],
            position=serializer.validated_data.get("position"),
        )
        fetch.refresh_from_db()  # an eager worker may have finished it already
        return Response(ImageFetchOutputSerializer(fetch).data, status=status.HTTP_202_ACCEPTED)


class MerchantProductImageFetchDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="merchant_product_image_fetches_retrieve",
        responses=ImageFetchOutputSerializer,
    )
    def get(self, request: Request, product_id: int, fetch_id: int) -> Response:
        fetch = selectors.product_image_fetch_get(
            product=_caller_product(request, product_id), fetch_id=fetch_id
        )
        if fetch is None:
            raise Http404
        return Response(ImageFetchOutputSerializer(fetch).data)


# --- All the caller's images ---------------------------------------------------------------------


class MerchantImageOutputSerializer(ImageOutputSerializer):
    product_id = serializers.IntegerField(read_only=True)
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta(ImageOutputSerializer.Meta):
        fields = [*ImageOutputSerializer.Meta.fields, "product_id", "sku", "updated_at"]


class MerchantImagePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MerchantImageOutputSerializer(many=True)


class MerchantImageListParamsSerializer(ImageFilterParamsSerializer):
    merchant = serializers.CharField(required=False, allow_blank=True, max_length=100)
    limit = QueryIntegerField(required=False, min_value=1, max_value=200)
    offset = QueryIntegerField(required=False, min_value=0)


class MerchantImageListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="merchant_images_list",
        parameters=[
            IMAGE_STATUS_PARAMETER,
            UPDATED_SINCE_PARAMETER,
            OpenApiParameter("merchant", str, description="Only this merchant (slug)"),
            OpenApiParameter("limit", int, description="1..200, default 50"),
            OpenApiParameter("offset", int, description="0 or more"),
        ],
        responses=MerchantImagePageSerializer,
        description="Images of all the caller's products, most recently changed first.",
    )
    def get(self, request: Request) -> Response:
        params = MerchantImageListParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        images = selectors.product_image_list_for_user(
            user=request.user,
            merchant_slug=params.validated_data.get("merchant", "").strip(),
            status=params.validated_data.get("status", ""),
            updated_since=params.validated_data.get("updated_since"),
        )
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(images, request, view=self)
        return paginator.get_paginated_response(MerchantImageOutputSerializer(page, many=True).data)
