"""Staff API for search experiments and the shop's search settings, token or session auth:
/api/v1/merchandising/experiments/ (list, create; each: read, start, end, results) and
/api/v1/merchandising/search-settings/. Shop staff only: anyone else gets 403 (experiments
change every merchant's rankings, so none belongs to one merchant)."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.apis import QueryIntegerField
from config.validation import PlainTextField
from merchandising.experiments import selectors, services
from merchandising.experiments.models import Experiment, SettingsFields
from merchandising.experiments.validation import (
    MAX_RRF_K,
    MAX_VARIANTS,
    MAX_WEIGHT,
    MIN_VARIANTS,
    image_collections,
    variants_errors,
)


class IsShopStaff(BasePermission):
    message = "Search experiments and settings are for shop staff."

    def has_permission(self, request, view) -> bool:
        return services.can_manage_experiments(request.user)


class _Strict(serializers.Serializer):
    """Unknown fields are refused by name rather than ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise ValidationError({name: "Not a field here." for name in unknown})
        return super().to_internal_value(data)


def _weight(leg: str) -> serializers.FloatField:
    return serializers.FloatField(
        min_value=0,
        max_value=MAX_WEIGHT,
        required=False,
        allow_null=True,
        help_text=f"The {leg} leg's fusion weight (0 switches it off); null: the default.",
    )


class SettingsInputSerializer(_Strict):
    weight_image = _weight("CLIP image")
    weight_text = _weight("product-text")
    weight_keywords = _weight("keyword")
    rrf_k = serializers.IntegerField(
        min_value=1, max_value=MAX_RRF_K, required=False, allow_null=True
    )
    rerank = serializers.ChoiceField(choices=SettingsFields.Rerank.choices, required=False)
    rules = serializers.BooleanField(required=False, help_text="false: no merchandising rules.")
    image_collection = PlainTextField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="A built image collection (an index generation); empty: the live one.",
    )

    def validate_image_collection(self, value: str) -> str:
        if value and value not in image_collections():
            raise ValidationError("No built image collection has this name.")
        return value

    def validate(self, attrs):
        weights = [attrs.get(name) for name in ("weight_image", "weight_text", "weight_keywords")]
        if all(weight == 0 for weight in weights):
            raise ValidationError({"weight_image": "At least one leg needs a weight above 0."})
        return attrs


class VariantInputSerializer(SettingsInputSerializer):
    name = serializers.SlugField(max_length=64, help_text="Short name: control, b, rrf-30...")
    share = serializers.IntegerField(min_value=1, max_value=99, help_text="Percent of visitors.")


class ExperimentInputSerializer(_Strict):
    name = PlainTextField(max_length=200)
    description = PlainTextField(required=False, allow_blank=True, max_length=2000)
    metric = serializers.ChoiceField(choices=Experiment.Metric.choices, required=False)
    variants: serializers.ListSerializer = serializers.ListSerializer(
        child=VariantInputSerializer(),
        min_length=MIN_VARIANTS,
        max_length=MAX_VARIANTS,
        help_text="The first is the control; shares add up to 100.",
    )

    def validate_variants(self, value):
        class _Row:
            def __init__(self, data):
                self.name, self.share = data["name"], data["share"]

        errors = variants_errors([_Row(data) for data in value])
        if errors:
            raise ValidationError(errors["variants"])
        return value


class VariantOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    share = serializers.IntegerField()
    control = serializers.BooleanField(source="is_control")
    weight_image = serializers.FloatField(allow_null=True)
    weight_text = serializers.FloatField(allow_null=True)
    weight_keywords = serializers.FloatField(allow_null=True)
    rrf_k = serializers.IntegerField(allow_null=True)
    rerank = serializers.CharField()
    rules = serializers.BooleanField()
    image_collection = serializers.CharField()


class ExperimentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=Experiment.Status.choices)
    metric = serializers.ChoiceField(choices=Experiment.Metric.choices)
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    winner = serializers.CharField(source="winner.name", allow_null=True, default=None)
    variants = VariantOutputSerializer(many=True, help_text="Control first.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ExperimentPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ExperimentOutputSerializer(many=True)


class RateSerializer(serializers.Serializer):
    successes = serializers.IntegerField()
    trials = serializers.IntegerField()
    value = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True, help_text="Wilson interval, 95%.")
    high = serializers.FloatField(allow_null=True)


class MeanSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True, help_text="t interval, 95%.")
    high = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField(help_text="Clicks with a position.")


class TestSerializer(serializers.Serializer):
    difference = serializers.FloatField(allow_null=True, help_text="Variant minus control.")
    lift = serializers.FloatField(allow_null=True, help_text="Relative to the control.")
    p_value = serializers.FloatField(allow_null=True)
    adjusted_p = serializers.FloatField(allow_null=True, help_text="Holm over the variants.")
    significant = serializers.BooleanField()


class MetricsSerializer(serializers.Serializer):
    ctr = RateSerializer()
    add_to_cart = RateSerializer()
    conversion = RateSerializer()


class TestsSerializer(serializers.Serializer):
    ctr = TestSerializer(required=False)
    add_to_cart = TestSerializer(required=False)
    conversion = TestSerializer(required=False)


class VariantStatsSerializer(serializers.Serializer):
    name = serializers.CharField()
    is_control = serializers.BooleanField()
    searches = serializers.IntegerField()
    rates = MetricsSerializer(help_text="Searches with a click, an add to cart, a purchase.")
    click_position = MeanSerializer(help_text="Mean position of the clicked results.")
    tests = TestsSerializer(help_text="Against the control (empty for the control).")
    mde = serializers.FloatField(
        allow_null=True,
        help_text=(
            "Minimum detectable effect on the deciding metric with the traffic so far "
            "(absolute, power 0.8, alpha 0.05 shared among the variants)."
        ),
    )


class VerdictSerializer(serializers.Serializer):
    significant = serializers.BooleanField()
    winner = serializers.CharField(allow_null=True)
    metric = serializers.CharField()
    text = serializers.CharField(help_text="'Not yet significant: ...' until it is.")


class ResultsSerializer(serializers.Serializer):
    experiment = ExperimentOutputSerializer()
    alpha = serializers.FloatField(allow_null=True)
    power = serializers.FloatField(allow_null=True)
    variants = VariantStatsSerializer(many=True)
    verdict = VerdictSerializer(allow_null=True, help_text="Null for a draft.")


class EndInputSerializer(_Strict):
    winner = serializers.SlugField(
        required=False,
        allow_null=True,
        help_text=(
            "The variant whose settings become the shop's. Omitted: the significant winner "
            "if there is one; null: none (the shop's settings stay as they are)."
        ),
    )
    apply = serializers.BooleanField(
        required=False, default=True, help_text="false: end without changing the shop's settings."
    )


class ListParamsSerializer(serializers.Serializer):
    limit = QueryIntegerField(required=False, min_value=1, max_value=200)
    offset = QueryIntegerField(required=False, min_value=0)


class SearchSettingsOutputSerializer(serializers.Serializer):
    weight_image = serializers.FloatField(allow_null=True)
    weight_text = serializers.FloatField(allow_null=True)
    weight_keywords = serializers.FloatField(allow_null=True)
    rrf_k = serializers.IntegerField(allow_null=True)
    rerank = serializers.CharField()
    rules = serializers.BooleanField()
    image_collection = serializers.CharField()
    updated_at = serializers.DateTimeField()


def _caller_experiment(request: Request, experiment_id: int) -> Experiment:
    experiment = selectors.experiment_get_for_user(user=request.user, experiment_id=experiment_id)
    if experiment is None:
        raise Http404
    return experiment


def results_body(experiment: Experiment) -> dict:
    results = selectors.experiment_results(experiment=experiment)
    return {
        "experiment": ExperimentOutputSerializer(experiment).data,
        "alpha": results.alpha if results else None,
        "power": results.power if results else None,
        "variants": VariantStatsSerializer(results.variants if results else [], many=True).data,
        "verdict": VerdictSerializer(results.verdict).data if results else None,
    }


_PERMISSIONS = [IsAuthenticated, IsShopStaff]


class ExperimentListCreateApi(APIView):
    permission_classes = _PERMISSIONS

    @extend_schema(
        operation_id="merchandising_experiments_list",
        parameters=[
            OpenApiParameter("limit", int, description="1..200, default 50"),
            OpenApiParameter("offset", int, description="0 or more"),
        ],
        responses=ExperimentPageSerializer,
    )
    def get(self, request: Request) -> Response:
        ListParamsSerializer(data=request.query_params).is_valid(raise_exception=True)
        paginator = LimitOffsetPagination()
        paginator.default_limit = 50
        paginator.max_limit = 200
        page = paginator.paginate_queryset(
            selectors.experiment_list_for_user(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(ExperimentOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="merchandising_experiments_create",
        request=ExperimentInputSerializer,
        responses={201: ExperimentOutputSerializer},
        description="A draft experiment; start it with .../start/.",
    )
    def post(self, request: Request) -> Response:
        serializer = ExperimentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        experiment = services.experiment_create(user=request.user, **serializer.validated_data)
        experiment = _caller_experiment(request, experiment.pk)
        return Response(ExperimentOutputSerializer(experiment).data, status=status.HTTP_201_CREATED)


class ExperimentDetailApi(APIView):
    permission_classes = _PERMISSIONS

    @extend_schema(
        operation_id="merchandising_experiments_retrieve", responses=ExperimentOutputSerializer
    )
    def get(self, request: Request, experiment_id: int) -> Response:
        return Response(ExperimentOutputSerializer(_caller_experiment(request, experiment_id)).data)


class ExperimentStartApi(APIView):
    permission_classes = _PERMISSIONS

    @extend_schema(
        operation_id="merchandising_experiments_start",
        request=None,
        responses=ExperimentOutputSerializer,
        description="Start splitting the traffic (one experiment runs at a time).",
    )
    def post(self, request: Request, experiment_id: int) -> Response:
        experiment = services.experiment_start(
            user=request.user, experiment=_caller_experiment(request, experiment_id)
        )
        return Response(ExperimentOutputSerializer(_caller_experiment(request, experiment.pk)).data)


class ExperimentEndApi(APIView):
    permission_classes = _PERMISSIONS

    @extend_schema(
        operation_id="merchandising_experiments_end",
        request=EndInputSerializer,
        responses=ExperimentOutputSerializer,
        description="Stop the experiment; the winner's settings become the shop's search settings.",
    )
    def post(self, request: Request, experiment_id: int) -> Response:
        experiment = _caller_experiment(request, experiment_id)
        serializer = EndInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        variants = {variant.name: variant for variant in selectors.variants_of(experiment)}
        if "winner" in values:
            name = values["winner"]
            if name is not None and name not in variants:
                raise ValidationError({"winner": f"No variant is called {name!r}."})
            winner = variants.get(name) if name else None
        else:
            results = selectors.experiment_results(experiment=experiment)
            verdict = results.verdict if results else None
            winner = variants.get(verdict.winner) if verdict and verdict.winner else None
        experiment = services.experiment_end(
            user=request.user, experiment=experiment, winner=winner, apply=values["apply"]
        )
        return Response(ExperimentOutputSerializer(_caller_experiment(request, experiment.pk)).data)


class ExperimentResultsApi(APIView):
    permission_classes = _PERMISSIONS

    @extend_schema(
        operation_id="merchandising_experiments_results",
        responses=ResultsSerializer,
        description=(
            "Per variant: searches, click-through, mean click position, add-to-cart and "
            "conversion rates with 95% intervals; each variant against the control "
            "(chi-square, Holm-adjusted), the minimum detectable effect, and the verdict."
        ),
    )
    def get(self, request: Request, experiment_id: int) -> Response:
        return Response(results_body(_caller_experiment(request, experiment_id)))


class SearchSettingsApi(APIView):
    permission_classes = _PERMISSIONS

    @extend_schema(
        operation_id="merchandising_search_settings_retrieve",
        responses=SearchSettingsOutputSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(SearchSettingsOutputSerializer(services.search_settings_get()).data)

    @extend_schema(
        operation_id="merchandising_search_settings_update",
        request=SettingsInputSerializer,
        responses=SearchSettingsOutputSerializer,
        description="The shop's default search settings (null or empty: the server's default).",
    )
    def patch(self, request: Request) -> Response:
        serializer = SettingsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shop = services.search_settings_update(user=request.user, data=serializer.validated_data)
        return Response(SearchSettingsOutputSerializer(shop).data)
