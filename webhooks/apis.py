"""Merchant API for webhooks: register endpoints, read their delivery log."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.apis import MerchantProductListCreateApi
from config.parsers import JSONParser
from config.validation import PlainTextField
from webhooks import selectors, services
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint


class EndpointOutputSerializer(serializers.ModelSerializer):
    merchant: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "merchant", "url", "events", "description", "is_active", "created_at"]


class EndpointCreatedSerializer(EndpointOutputSerializer):
    class Meta(EndpointOutputSerializer.Meta):
        fields = [*EndpointOutputSerializer.Meta.fields, "secret"]


class EndpointInputSerializer(serializers.Serializer):
    merchant = serializers.SlugField(
        required=False,
        help_text="Merchant slug; needed only when the caller belongs to several merchants.",
    )
    url = serializers.URLField(max_length=2000, help_text="https URL on a public address.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Event.choices),
        required=False,
        default=list,
        max_length=len(Event.values),
        help_text="Events to send; empty or absent: all of them.",
    )
    description = PlainTextField(max_length=200, required=False, allow_blank=True, default="")


class DeliveryOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "payload",
            "status",
            "attempts",
            "response_status",
            "last_error",
            "delivered_at",
            "created_at",
            "updated_at",
        ]


class DeliveryPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DeliveryOutputSerializer(many=True)


def _caller_endpoint(request: Request, endpoint_id: int) -> WebhookEndpoint:
    endpoint = selectors.endpoint_get_for_user(user=request.user, endpoint_id=endpoint_id)
    if endpoint is None:
        raise Http404
    return endpoint


class WebhookEndpointListCreateApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="merchant_webhooks_list", responses=EndpointOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        endpoints = selectors.endpoint_list_for_user(user=request.user)
        return Response(EndpointOutputSerializer(endpoints, many=True).data)

    @extend_schema(
        operation_id="merchant_webhooks_create",
        request=EndpointInputSerializer,
        responses={201: EndpointCreatedSerializer},
        description=(
            "Register a URL for image.indexed, image.failed and product.indexed events. The "
            "answer holds the signing secret, shown only here: each delivery is a JSON POST "
            "with X-Webhook-Timestamp and X-Webhook-Signature: v1=<hex HMAC-SHA256 of "
            "'<timestamp>.<raw body>' under the secret>. Deliveries that do not get a 2xx "
            "answer are retried with exponential back-off (docs/webhooks.md)."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = EndpointInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        merchant = MerchantProductListCreateApi._merchant_for_create(
            request, data.pop("merchant", "")
        )
        endpoint = services.endpoint_create(merchant=merchant, **data)
        return Response(EndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookEndpointDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="merchant_webhooks_retrieve", responses=EndpointOutputSerializer)
    def get(self, request: Request, endpoint_id: int) -> Response:
        return Response(EndpointOutputSerializer(_caller_endpoint(request, endpoint_id)).data)

    @extend_schema(operation_id="merchant_webhooks_destroy", responses={204: None})
    def delete(self, request: Request, endpoint_id: int) -> Response:
        services.endpoint_delete(endpoint=_caller_endpoint(request, endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="merchant_webhook_deliveries_list", responses=DeliveryPageSerializer
    )
    def get(self, request: Request, endpoint_id: int) -> Response:
        endpoint = _caller_endpoint(request, endpoint_id)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(
            selectors.delivery_list(endpoint=endpoint), request, view=self
        )
        return paginator.get_paginated_response(DeliveryOutputSerializer(page, many=True).data)
