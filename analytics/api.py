"""``POST /api/v1/events/``: batches of click, add-to-cart and purchase events."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from analytics.models import InteractionEvent
from analytics.services import EventIn, events_record
from config.clients import client_address
from config.parsers import JSONParser

MAX_EVENTS_PER_BATCH = 100
VISITOR_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


class EventsThrottle(SimpleRateThrottle):
    scope = "analytics_events"

    def get_rate(self):
        # Read per request, not once at import: the rate follows the settings.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number", "minimum": 0, "maximum": 9_999_999_999.99},
            {"type": "string", "pattern": r"^\d{1,10}(\.\d{1,2})?$"},
        ],
        "nullable": True,
    }
)
class PriceField(serializers.DecimalField):
    """A price as JSON number or decimal string (apps send either); the schema says both."""

    def run_validation(self, data=serializers.empty):
        if isinstance(data, str) and not data.strip():
            raise ValidationError("A price, or leave it out.")  # DRF would take "" as null
        return super().run_validation(data)


class StrictUUIDField(serializers.UUIDField):
    """A UUID written as a string: DRF's own also takes integers (and so true and false)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class EventInputSerializer(serializers.Serializer):
    id = StrictUUIDField(
        help_text="A UUID the client draws once per event and keeps on retries: an id already "
        "taken in is counted once."
    )
    kind = serializers.ChoiceField(choices=InteractionEvent.Kind.choices)
    search_id = StrictUUIDField(
        required=False,
        allow_null=True,
        help_text="The `search_id` of the search response the product was found in.",
    )
    product_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    position = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=10_000,
        help_text="1-based place of the product in the results (required for a click).",
    )
    quantity = serializers.IntegerField(required=False, default=1, min_value=1, max_value=10_000)
    price = PriceField(
        required=False,
        allow_null=True,
        max_digits=12,
        decimal_places=2,
        min_value=0,
        help_text="Unit price paid (for a purchase).",
    )
    visitor_id = serializers.RegexField(
        VISITOR_ID_PATTERN,
        required=False,
        allow_blank=True,
        default="",
        help_text="The client's random anonymous id (never a login, email or device id).",
    )

    def validate(self, attrs):
        if attrs["kind"] == InteractionEvent.Kind.CLICK and attrs.get("position") is None:
            raise ValidationError({"position": "A click needs the product's position."})
        return attrs


class EventsInputSerializer(serializers.Serializer):
    events = serializers.ListField(
        child=EventInputSerializer(), min_length=1, max_length=MAX_EVENTS_PER_BATCH
    )


class EventsOutputSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Events recorded by this request.")
    duplicates = serializers.IntegerField(help_text="Events whose id was already taken in.")


class EventsApi(APIView):
    """Storefront and app events: what shoppers did with search results."""

    permission_classes = [AllowAny]
    # Anonymous by design (a session would also demand a CSRF token from sendBeacon).
    authentication_classes: list = []
    parser_classes = [JSONParser]
    throttle_classes = [EventsThrottle]

    @extend_schema(
        operation_id="events_create",
        request=EventsInputSerializer,
        responses={202: EventsOutputSerializer},
        description=(
            f"Up to {MAX_EVENTS_PER_BATCH} events a request. The mobile flow: keep a random "
            "`visitor_id`; search (POST /api/v1/search/ with the `X-Visitor-Id` header) and keep "
            "the response's `search_id`; when the shopper opens a result, queue a `click` with "
            "its `position`; on add to cart an `add_to_cart`, on checkout a `purchase` with "
            "`quantity` and `price`; send the queue in batches, each event with its own `id` "
            "(retrying a batch is safe). Do not send events when the shopper opted out of "
            "tracking."
        ),
        examples=[
            OpenApiExample(
                "A click and an add to cart",
                request_only=True,
                value={
                    "events": [
                        {
                            "id": "0b8c1f0e-8a5e-4c53-9d0e-3b0f7b9e4a11",
                            "kind": "click",
                            "search_id": "5f2b7e52-6c1f-4a8e-a1c2-2f4d1f6b9c3d",
                            "product_id": 42,
                            "position": 3,
                            "visitor_id": "v-3f9a1c2e7b",
                        },
                        {
                            "id": "6a4f2d7c-1b3e-4f5a-8c9d-0e1f2a3b4c5d",
                            "kind": "add_to_cart",
                            "search_id": "5f2b7e52-6c1f-4a8e-a1c2-2f4d1f6b9c3d",
                            "product_id": 42,
                            "quantity": 1,
                            "visitor_id": "v-3f9a1c2e7b",
                        },
                    ]
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        try:
            data = request.data
        except ParseError as exc:
            raise ValidationError({"body": f"Malformed request body: {exc.detail}"}) from None
        if not isinstance(data, dict):
            raise ValidationError({"body": "Expected a JSON object with `events`."})
        serializer = EventsInputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        events = [
            EventIn(
                event_id=item["id"],
                kind=item["kind"],
                product_id=item["product_id"],
                search_id=item.get("search_id"),
                position=item.get("position"),
                quantity=item["quantity"],
                price=item.get("price"),
                visitor_id=item.get("visitor_id") or "",
            )
            for item in serializer.validated_data["events"]
        ]
        recorded = events_record(events=events)
        return Response(
            {"accepted": recorded.accepted, "duplicates": recorded.duplicates},
            status=status.HTTP_202_ACCEPTED,
        )
