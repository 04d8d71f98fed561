"""``"look": true`` on ``POST /api/v1/search/``: one group of results per detected item."""

import uuid

from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from search.api.execute import record_stages, search_errors
from search.api.regions import DetectedBoxSerializer
from search.api.serializers import (
    SEARCH_ID_HELP,
    FacetsSerializer,
    ResultSerializer,
    SearchOutputSerializer,
    result_dict,
)
from search.encoding.registry import get_detector
from search.query.look import LookOutcome, search_look
from search.query.recording import FinishedSearch, announce, visitor_id_from
from search.query.types import SearchQuery


class LookGroupSerializer(DetectedBoxSerializer):
    results = ResultSerializer(many=True)
    total = serializers.IntegerField(help_text="Products that match the filters.")


class LookOutputSerializer(serializers.Serializer):
    search_id = serializers.UUIDField(help_text=SEARCH_ID_HELP)
    query_type = serializers.ChoiceField(choices=["look"])
    groups = LookGroupSerializer(
        many=True, help_text="One per detected item, best detection first: its box and results."
    )
    model = serializers.CharField(help_text="The detector model that found the items.")
    limit = serializers.IntegerField(help_text="Results per group.")
    took_ms = serializers.FloatField()
    stages = serializers.DictField(
        child=serializers.FloatField(),
        help_text="Milliseconds: decode, detect, then search (all the groups' searches).",
    )
    notices = serializers.ListField(child=serializers.CharField())
    facets = FacetsSerializer(
        help_text="Counts of the products the filters match: the same for every group."
    )


LOOK_OR_SEARCH = PolymorphicProxySerializer(
    component_name="SearchOrLookOutput",
    serializers=[SearchOutputSerializer, LookOutputSerializer],
    resource_type_field_name=None,
)

SEARCH_EXAMPLES = [
    OpenApiExample(
        "Part of a photo",
        summary="multipart: image plus crop",
        value={"image": "(the photo file)", "crop": "0.25,0.1,0.75,0.9", "limit": "20"},
        request_only=True,
        media_type="multipart/form-data",
    ),
    OpenApiExample(
        "Shop the look",
        summary="multipart: image plus look",
        value={"image": "(the photo file)", "look": "true", "limit": "6"},
        request_only=True,
        media_type="multipart/form-data",
    ),
]


def render_look(outcome: LookOutcome, *, limit: int) -> dict:
    return {
        "query_type": "look",
        "groups": [
            {
                "box": list(group.detection.box),
                "label": group.detection.label,
                "score": group.detection.score,
                "results": [result_dict(item) for item in group.outcome.items],
                "total": group.outcome.total,
            }
            for group in outcome.groups
        ],
        "model": outcome.model,
        "limit": limit,
        "took_ms": outcome.took_ms,
        "stages": outcome.stages,
        "notices": outcome.notices,
        "facets": outcome.facets,
    }


def run_look(query: SearchQuery, *, decode_ms: float, request: Request | None = None) -> Response:
    with search_errors("Shop the look"):
        outcome = search_look(query, get_detector())
    outcome.stages = {"decode": round(decode_ms, 3), **outcome.stages}
    record_stages("look", outcome.stages)
    search_id = uuid.uuid4()
    announce(
        FinishedSearch(
            search_id=search_id,
            query=query,
            kind="look",
            outcomes=tuple(group.outcome for group in outcome.groups),
            took_ms=outcome.took_ms,
            visitor_id=visitor_id_from(request.headers) if request is not None else "",
        )
    )
    return Response({"search_id": str(search_id), **render_look(outcome, limit=query.limit)})
