"""Merchant API (/api/v1/merchant/): products and their images, scoped to the caller's merchants.

Another merchant's object answers 404 (never 403): its existence is not disclosed.
"""

from typing import cast

from django.contrib.auth import authenticate
from django.db import transaction
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors, services
from catalog.auth import token_expires_at, token_issue
from catalog.intake import ImageRejected, read_upload
from catalog.models import Product, ProductImage
from config import login_throttle
from config.uploads import ExpectedFileParts
from config.validation import PlainTextField, refuse_control_characters_within


def _fields(data) -> dict:
    """Form and multipart bodies as the plain object JSON would give.

    DRF reads an empty form field of an optional serializer field as "absent", so `currency=`
    became USD and a PATCH with `sku=` kept the old SKU, where the same JSON is refused: one
    schema, whatever the content type.
    """
    if hasattr(data, "getlist"):
        return {key: data.get(key) for key in data}
    return data


def _caller_product(request: Request, product_id: int) -> Product:
    product = selectors.product_get_for_user(user=request.user, product_id=product_id)
    if product is None:
        raise Http404
    return product


class ImageOutputSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = [
            "id",
            "url",
            "thumbnail_url",
            "width",
            "height",
            "content_type",
            "sha256",
            "position",
            "status",
            "failure_reason",
            "model_revision",
            "indexed_at",
            "colors",
            "duplicate_of",
            "duplicate_dismissed",
            "created_at",
        ]
        extra_kwargs = {
            "colors": {"help_text": "Colours derived from the pixels: name, share, hex."},
            "duplicate_of": {
                "help_text": "An older image of the merchant this one nearly duplicates."
            },
        }

    def get_url(self, image: ProductImage) -> str:
        return image.file.url

    def get_thumbnail_url(self, image: ProductImage) -> str:
        return image.thumbnail.url if image.thumbnail else image.file.url


class DerivedColourSerializer(serializers.Serializer):
    name = serializers.CharField()
    share = serializers.FloatField(help_text="Of the product's pixels, 0..1 (the confidence).")
    hex = serializers.CharField(required=False)


class ProductColorsSerializer(serializers.Serializer):
    values = serializers.ListField(
        child=serializers.CharField(), help_text="The colours search filters this product by."
    )
    source = serializers.ChoiceField(  # type: ignore[assignment]  # a field, not Field.source
        choices=["merchant", "derived", "none"],
        help_text="merchant: typed in attributes.color (wins); derived: from the images.",
    )
    derived = DerivedColourSerializer(many=True)


class ProductColorsInputSerializer(serializers.Serializer):
    colors = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        allow_null=True,
        min_length=1,
        max_length=10,
        help_text="The right colours; leave out to confirm the derived ones as they are.",
    )


class ProductOutputSerializer(serializers.ModelSerializer):
    merchant: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    image_count = serializers.IntegerField(read_only=True, default=0)
    colors = serializers.SerializerMethodField()
    derived_attributes = serializers.SerializerMethodField(
        help_text=(
            "Per zero-shot attribute: the values search filters by, their source (merchant or "
            "derived) and what was derived with its confidence. Type a value in `attributes` "
            "under the same name to correct one."
        )
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "merchant",
            "sku",
            "gtin",
            "mpn",
            "title",
            "description",
            "brand",
            "category",
            "price",
            "currency",
            "in_stock",
            "attributes",
            "is_active",
            "image_count",
            "colors",
            "derived_attributes",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(
        serializers.DictField(child=serializers.DictField(), help_text="name -> values, source")
    )
    def get_derived_attributes(self, product: Product) -> dict:
        return selectors.product_attribute_values(product=product)

    @extend_schema_field(ProductColorsSerializer)
    def get_colors(self, product: Product) -> dict:
        return selectors.product_colors(product=product)


class ProductPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ProductOutputSerializer(many=True)


class QueryIntegerField(serializers.IntegerField):
    """An integer query parameter: present but empty (`?limit=`) is an error, not "absent"."""

    def get_value(self, dictionary):
        return dictionary.get(self.field_name, serializers.empty)

    def to_internal_value(self, data):
        if isinstance(data, str) and not data.strip().lstrip("-").isdigit():
            self.fail("invalid")  # DRF would take "1.0"; the schema says integer
        return super().to_internal_value(data)


class QueryDateTimeField(serializers.DateTimeField):
    """A date-time query parameter (ISO 8601); present but empty is an error, not "absent"."""

    def get_value(self, dictionary):
        return dictionary.get(self.field_name, serializers.empty)


class QueryChoiceField(serializers.ChoiceField):
    """A choice query parameter; present but empty (`?status=`) is an error, not "absent"."""

    def get_value(self, dictionary):
        return dictionary.get(self.field_name, serializers.empty)


class ImageFilterParamsSerializer(serializers.Serializer):
    status = QueryChoiceField(choices=ProductImage.Status.choices, required=False)
    updated_since = QueryDateTimeField(required=False)


class ProductListParamsSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)
    merchant = serializers.CharField(required=False, allow_blank=True, max_length=100)
    limit = QueryIntegerField(required=False, min_value=1, max_value=200)
    offset = QueryIntegerField(required=False, min_value=0)
    updated_since = QueryDateTimeField(required=False)
    image_status = QueryChoiceField(choices=ProductImage.Status.choices, required=False)


UPDATED_SINCE_PARAMETER = OpenApiParameter(
    "updated_since",
    OpenApiTypes.DATETIME,
    description="Only what changed at or after this moment (ISO 8601, e.g. 2026-01-31T12:00:00Z)",
)
IMAGE_STATUS_PARAMETER = OpenApiParameter(
    "status", str, enum=ProductImage.Status.values, description="Only images in this status"
)


class ProductInputSerializer(serializers.Serializer):
    merchant = serializers.SlugField(
        required=False,
        help_text="Merchant slug; needed only when the caller belongs to several merchants.",
    )
    sku = PlainTextField(max_length=64)
    gtin = serializers.RegexField(
        r"^[0-9][0-9 -]{6,18}[0-9]$",
        max_length=20,
        required=False,
        allow_blank=True,
        default="",
        help_text="GTIN, EAN or UPC: 8 to 14 digits (spaces and dashes allowed).",
    )
    mpn = PlainTextField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="Manufacturer part number.",
    )
    title = PlainTextField(max_length=300)
    description = PlainTextField(required=False, allow_blank=True, default="")
    brand = PlainTextField(max_length=120, required=False, allow_blank=True, default="")
    category = PlainTextField(max_length=120, required=False, allow_blank=True, default="")
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False, default="USD")
    in_stock = serializers.BooleanField(required=False, default=True)
    attributes = serializers.DictField(required=False, default=dict)
    is_active = serializers.BooleanField(required=False, default=True)

    def validate_attributes(self, value: dict) -> dict:
        # JSON in PostgreSQL refuses NUL characters (a DataError, a 500 before this check).
        refuse_control_characters_within(value)
        return value


class ProductUpdateInputSerializer(ProductInputSerializer):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)
        self.fields.pop("merchant")


class MerchantProductListCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="merchant_products_list",
        parameters=[
            OpenApiParameter("q", str, description="Title contains, or exact SKU"),
            OpenApiParameter("merchant", str, description="Only this merchant (slug)"),
            OpenApiParameter("limit", int, description="1..200, default 50"),
            OpenApiParameter("offset", int, description="0 or more"),
            UPDATED_SINCE_PARAMETER,
            OpenApiParameter(
                "image_status",
                str,
                enum=ProductImage.Status.values,
                description="Only products with at least one image in this status",
            ),
        ],
        responses=ProductPageSerializer,
    )
    def get(self, request: Request) -> Response:
        params = ProductListParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        products = selectors.product_list_for_user(
            user=request.user,
            search=params.validated_data.get("q", "").strip(),
            merchant_slug=params.validated_data.get("merchant", "").strip(),
            updated_since=params.validated_data.get("updated_since"),
            image_status=params.validated_data.get("image_status", ""),
        )
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(products, request, view=self)
        return paginator.get_paginated_response(ProductOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="merchant_products_create",
        request=ProductInputSerializer,
        responses={201: ProductOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = ProductInputSerializer(data=_fields(request.data))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        merchant = self._merchant_for_create(request, data.pop("merchant", ""))
        product = services.product_create(merchant=merchant, **data)
        product.image_count = 0  # type: ignore[attr-defined]  # as the list's annotation
        return Response(ProductOutputSerializer(product).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _merchant_for_create(request: Request, slug: str):
        merchants = selectors.merchants_for_user(user=request.user)
        if slug:
            merchant = merchants.filter(slug=slug).first()
            if merchant is None:
                raise ValidationError({"merchant": "You are not a member of this merchant."})
            return merchant
        candidates = list(merchants[:2])
        if not candidates:
            raise ValidationError({"merchant": "Your account does not belong to any merchant."})
        if len(candidates) > 1:
            raise ValidationError({"merchant": "You belong to several merchants: name one (slug)."})
        return candidates[0]


class MerchantProductDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="merchant_products_retrieve", responses=ProductOutputSerializer)
    def get(self, request: Request, product_id: int) -> Response:
        return Response(ProductOutputSerializer(_caller_product(request, product_id)).data)

    @extend_schema(
        operation_id="merchant_products_update",
        request=ProductUpdateInputSerializer,
        responses=ProductOutputSerializer,
    )
    def patch(self, request: Request, product_id: int) -> Response:
        product = _caller_product(request, product_id)
        serializer = ProductUpdateInputSerializer(data=_fields(request.data))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        product = services.product_update(product=product, data=data)
        return Response(ProductOutputSerializer(product).data)

    @extend_schema(operation_id="merchant_products_destroy", responses={204: None})
    def delete(self, request: Request, product_id: int) -> Response:
        services.product_delete(product=_caller_product(request, product_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MerchantProductColorsApi(APIView):
    """The product's colours: derived from its images, or typed by the merchant (who wins)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="merchant_product_colors_retrieve", responses=ProductColorsSerializer
    )
    def get(self, request: Request, product_id: int) -> Response:
        product = _caller_product(request, product_id)
        return Response(selectors.product_colors(product=product))

    @extend_schema(
        operation_id="merchant_product_colors_confirm",
        request=ProductColorsInputSerializer,
        responses=ProductColorsSerializer,
        description=(
            "Confirm the derived colours (no body, or `colors` left out) or correct them "
            "(`colors`): either way they become the product's typed colour, which search "
            "filters by from then on."
        ),
    )
    def post(self, request: Request, product_id: int) -> Response:
        product = _caller_product(request, product_id)
        data = request.data if isinstance(request.data, dict) else None
        if data is None:
            raise ValidationError({"colors": "Expected a JSON object."})
        serializer = ProductColorsInputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        product = services.product_colors_confirm(
            product=product, colors=serializer.validated_data.get("colors")
        )
        return Response(selectors.product_colors(product=product))


class MerchantProductImageListCreateApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    def initialize_request(self, request, *args, **kwargs):
        # Any other file part is refused before its bytes are read.
        request.upload_handlers = [
            ExpectedFileParts(request, names={"image"}),
            *request.upload_handlers,
        ]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        operation_id="merchant_product_images_list",
        parameters=[IMAGE_STATUS_PARAMETER, UPDATED_SINCE_PARAMETER],
        responses=ImageOutputSerializer(many=True),
    )
    def get(self, request: Request, product_id: int) -> Response:
        params = ImageFilterParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        product = _caller_product(request, product_id)
        images = selectors.product_image_list(
            product=product,
            status=params.validated_data.get("status", ""),
            updated_since=params.validated_data.get("updated_since"),
        )
        return Response(ImageOutputSerializer(images, many=True).data)

    @extend_schema(
        operation_id="merchant_product_images_create",
        request={
            "multipart/form-data": inline_serializer(
                "ProductImageUpload",
                fields={
                    "image": serializers.FileField(
                        help_text="JPEG, PNG or WebP; at most MAX_UPLOAD_BYTES and MAX_IMAGE_PIXELS."
                    ),
                    "position": serializers.IntegerField(required=False, min_value=0),
                },
            )
        },
        responses={201: ImageOutputSerializer, 200: ImageOutputSerializer},
        description=(
            "Sending an image the product already has (the same picture, e.g. a retried "
            "upload) answers 200 with the existing image instead of creating another."
        ),
    )
    def post(self, request: Request, product_id: int) -> Response:
        product = _caller_product(request, product_id)
        upload = request.FILES.get("image")
        if upload is None:
            raise ValidationError({"image": "Attach the image as the multipart field 'image'."})
        position = cast(dict, request.data).get("position")
        if position not in (None, ""):
            try:
                position = int(position)
                if position < 0:
                    raise ValueError
            except (TypeError, ValueError):
                raise ValidationError({"position": "A whole number of 0 or more."}) from None
        else:
            position = None
        try:
            data = read_upload(upload)
        except ImageRejected as exc:
            raise ValidationError({"image": exc.detail}) from None
        with transaction.atomic():
            image, created = services.product_image_create_or_get(
                product=product, data=data, position=position
            )
        return Response(
            ImageOutputSerializer(image).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MerchantProductImageDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    def _image(self, request: Request, product_id: int, image_id: int) -> ProductImage:
        image = selectors.product_image_get(
            product=_caller_product(request, product_id), image_id=image_id
        )
        if image is None:
            raise Http404
        return image

    @extend_schema(operation_id="merchant_product_images_retrieve", responses=ImageOutputSerializer)
    def get(self, request: Request, product_id: int, image_id: int) -> Response:
        return Response(ImageOutputSerializer(self._image(request, product_id, image_id)).data)

    @extend_schema(operation_id="merchant_product_images_destroy", responses={204: None})
    def delete(self, request: Request, product_id: int, image_id: int) -> Response:
        services.product_image_delete(image=self._image(request, product_id, image_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    rotate = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Retire the current token and issue a new one.",
    )


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When the token stops working (API_TOKEN_TTL); null: never."
    )


class AuthTokenApi(APIView):
    """Exchange a username and password for an API token (``Authorization: Token ...``)."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenInputSerializer,
        responses={200: TokenOutputSerializer},
        description=(
            "Failed logins are counted per username and per address: past the limit this "
            "answers 429 with Retry-After, the right password included."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = TokenInputSerializer(data=_fields(request.data))
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        wait = login_throttle.locked_for(request, username)
        if wait is not None:
            raise Throttled(wait=wait, detail=login_throttle.locked_message(wait))
        user = authenticate(
            request=request, username=username, password=serializer.validated_data["password"]
        )
        if user is None:  # authenticate() has counted the failure (user_login_failed)
            raise ValidationError({"credentials": "Unable to log in with these credentials."})
        login_throttle.record_success(username)
        token = token_issue(user=user, rotate=serializer.validated_data["rotate"])
        return Response({"token": token.key, "expires_at": token_expires_at(token)})
