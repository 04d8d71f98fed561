"""Staff API for merchandising rules (/api/v1/merchandising/rules/), token or session auth.

Merchant staff see and write the rules of their merchants, naming their own products; another
merchant's rule answers 404 (its existence is not disclosed), another merchant's product is a
400 on `product`. Shop-wide rules (no merchant) are for shop staff.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors as catalog_selectors
from catalog.apis import QueryIntegerField
from config.validation import PlainTextField
from merchandising import selectors, services
from merchandising.models import Rule


class RuleOutputSerializer(serializers.ModelSerializer):
    merchant: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )

    class Meta:
        model = Rule
        fields = ["id", *services.RULE_FIELDS, "created_at", "updated_at"]
        read_only_fields = fields


class RulePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RuleOutputSerializer(many=True)


class RuleListParamsSerializer(serializers.Serializer):
    limit = QueryIntegerField(required=False, min_value=1, max_value=200)
    offset = QueryIntegerField(required=False, min_value=0)


class RuleInputSerializer(serializers.Serializer):
    name = PlainTextField(max_length=200)
    kind = serializers.ChoiceField(choices=Rule.Kind.choices)
    merchant = serializers.SlugField(
        required=False, allow_null=True, help_text="Merchant slug; null: shop-wide (shop staff)."
    )
    enabled = serializers.BooleanField(required=False, default=True)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    match = serializers.ChoiceField(choices=Rule.Match.choices, required=False)
    query = PlainTextField(max_length=200, required=False, allow_blank=True)
    filter_category = PlainTextField(max_length=120, required=False, allow_blank=True)
    synonym_type = serializers.ChoiceField(choices=Rule.SynonymType.choices, required=False)
    terms = PlainTextField(max_length=500, required=False, allow_blank=True)
    synonyms = PlainTextField(max_length=500, required=False, allow_blank=True)
    product = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    position = serializers.IntegerField(
        min_value=1, max_value=1000, required=False, allow_null=True
    )
    attribute = serializers.ChoiceField(
        choices=Rule.Attribute.choices, required=False, allow_blank=True
    )
    value = PlainTextField(max_length=120, required=False, allow_blank=True)
    price_min = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    price_max = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    weight = serializers.FloatField(min_value=0, max_value=100, required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise ValidationError({name: "Not a rule field." for name in unknown})
        return super().to_internal_value(data)


class RuleUpdateInputSerializer(RuleInputSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
        self.fields["enabled"].default = serializers.empty


def _resolved(request: Request, data: dict) -> dict:
    """Slugs and ids as the caller's own rows: another merchant's are refused by field."""
    data = dict(data)
    if data.get("merchant"):
        merchant = (
            catalog_selectors.merchants_for_user(user=request.user)
            .filter(slug=data["merchant"])
            .first()
        )
        if merchant is None:
            raise ValidationError({"merchant": "You are not a member of this merchant."})
        data["merchant"] = merchant
    if data.get("product"):
        product = catalog_selectors.product_get_for_user(
            user=request.user, product_id=data["product"]
        )
        if product is None:
            raise ValidationError({"product": "No product of yours has this id."})
        data["product"] = product
    return data


def _caller_rule(request: Request, rule_id: int) -> Rule:
    rule = selectors.rule_get_for_user(user=request.user, rule_id=rule_id)
    if rule is None:
        raise Http404
    return rule


class RuleListCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="merchandising_rules_list",
        parameters=[
            OpenApiParameter("limit", int, description="1..200, default 50"),
            OpenApiParameter("offset", int, description="0 or more"),
        ],
        responses=RulePageSerializer,
    )
    def get(self, request: Request) -> Response:
        RuleListParamsSerializer(data=request.query_params).is_valid(raise_exception=True)
        paginator = LimitOffsetPagination()
        paginator.max_limit = 200
        page = paginator.paginate_queryset(
            selectors.rule_list_for_user(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(RuleOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="merchandising_rules_create",
        request=RuleInputSerializer,
        responses={201: RuleOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = RuleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = _resolved(request, serializer.validated_data)
        if "merchant" not in data and not services.can_manage_shop_wide(request.user):
            # Merchant staff of one merchant need not name it (as for products).
            mine = list(catalog_selectors.merchants_for_user(user=request.user)[:2])
            data["merchant"] = mine[0] if len(mine) == 1 else None
        rule = services.rule_create(user=request.user, **data)
        return Response(RuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="merchandising_rules_retrieve", responses=RuleOutputSerializer)
    def get(self, request: Request, rule_id: int) -> Response:
        return Response(RuleOutputSerializer(_caller_rule(request, rule_id)).data)

    @extend_schema(
        operation_id="merchandising_rules_update",
        request=RuleUpdateInputSerializer,
        responses=RuleOutputSerializer,
    )
    def patch(self, request: Request, rule_id: int) -> Response:
        rule = _caller_rule(request, rule_id)
        serializer = RuleUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = _resolved(request, serializer.validated_data)
        rule = services.rule_update(user=request.user, rule=rule, data=data)
        return Response(RuleOutputSerializer(rule).data)

    @extend_schema(operation_id="merchandising_rules_destroy", responses={204: None})
    def delete(self, request: Request, rule_id: int) -> Response:
        services.rule_delete(user=request.user, rule=_caller_rule(request, rule_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
