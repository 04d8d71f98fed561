"""``POST /api/v1/merchant/products/{id}/draft/``: a vision-language model drafts the
product's title, description and attributes from its images. The draft is returned and kept
for review in the admin (accept or discard there), never applied: through the API the merchant
accepts or edits it with the product's own PATCH."""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import APIException
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors as catalog_selectors
from catalog import services as catalog_services
from search.api.throttles import RerankThrottle
from search.enrichment.drafts import DraftFailed, DraftUnavailable, draft_product


class DraftOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The kept draft, listed for review in the admin.")
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    attributes = serializers.DictField(child=serializers.CharField())
    model = serializers.CharField(help_text="The model that wrote the draft.")


class DraftErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in words a person can act on.")


class _ModelUnavailable(APIException):
    status_code = 503
    default_code = "draft_unavailable"


class _ModelFailed(APIException):
    status_code = 502
    default_code = "draft_failed"


class _ModelTimeout(APIException):
    status_code = 504
    default_code = "draft_timeout"


class MerchantProductDraftApi(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [RerankThrottle]

    @extend_schema(
        operation_id="merchant_product_draft",
        request=None,
        responses={
            200: DraftOutputSerializer,
            502: OpenApiResponse(DraftErrorSerializer, description="The answer was unusable."),
            504: OpenApiResponse(DraftErrorSerializer, description="No answer in time."),
        },
        description=(
            "Draft a title, description and attributes from the product's images with the "
            "configured vision-language model (RERANK_API_BASE and RERANK_MODEL, or "
            "RERANK_LOCAL_MODEL). The product is not changed: PATCH it with what you keep (the "
            "draft is also kept for review in the admin). 503 when no model is configured, "
            "502 when its answer is unusable, 504 when it does not answer in time."
        ),
    )
    def post(self, request: Request, product_id: int) -> Response:
        product = catalog_selectors.product_get_for_user(user=request.user, product_id=product_id)
        if product is None:
            raise Http404
        try:
            draft = draft_product(product)
        except DraftUnavailable as exc:
            raise _ModelUnavailable(str(exc)) from None
        except DraftFailed as exc:
            raise (_ModelTimeout if exc.timeout else _ModelFailed)(str(exc)) from None
        kept = catalog_services.product_draft_record(
            product=product, copy=draft, requested_by=request.user
        )
        return Response(
            {
                "id": kept.pk,
                "title": draft.title,
                "description": draft.description,
                "attributes": draft.attributes,
                "model": draft.model,
            }
        )
