"""``POST /api/v1/search/``: search by text, by photo (multipart), or both."""

from typing import cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.parsers import JSONParser, loads_limited
from search.api.execute import run_search, search_errors
from search.api.look import LOOK_OR_SEARCH, SEARCH_EXAMPLES, run_look
from search.api.serializers import (
    SearchInputSerializer,
    SearchPhotoInputSerializer,
    filter_from,
)
from search.api.throttles import SearchPhotoThrottle, SearchTextThrottle
from search.api.uploads import decode_photo, photo_upload_handlers
from search.query.recording import VISITOR_HEADER
from search.query.regions import crop_image, decode_edge_for
from search.query.service import image_fingerprint
from search.query.types import SearchQuery


class SearchApi(APIView):
    """Search by text, by photo (multipart), or both."""

    permission_classes = [AllowAny]
    parser_classes = [JSONParser, MultiPartParser]
    throttle_classes = [SearchTextThrottle, SearchPhotoThrottle]

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body: the shopper's photo must never touch the disk.
        request.upload_handlers = photo_upload_handlers(request)
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        operation_id="search",
        request={
            "application/json": SearchInputSerializer,
            "multipart/form-data": SearchPhotoInputSerializer,
        },
        responses={200: LOOK_OR_SEARCH},
        parameters=[
            OpenApiParameter(
                VISITOR_HEADER,
                str,
                location=OpenApiParameter.HEADER,
                required=False,
                description=(
                    "Optional anonymous visitor id the client chose at random (8-64 letters, "
                    "digits, - or _), the same it sends with its events; anything else is ignored."
                ),
            )
        ],
        description=(
            "JSON for a text query; multipart with `image` (and optional `text`, `text_weight`) for a photo "
            "or hybrid query. In multipart, `filters` and `weights` are JSON strings. With `crop` only "
            "that part of the photo is searched; with `look` the items in the photo are detected and "
            "each gets its own group of results (the answer is then a look, not a result list)."
        ),
        examples=SEARCH_EXAMPLES,
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
        serializer = SearchInputSerializer(
            data=data, context={"has_image": upload is not None, "multipart": is_multipart}
        )
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        text = (values.get("text") or "").strip() or None
        if text is None and upload is None:
            raise ValidationError({"text": "Give a text, an image, or both."})

        image = None
        fingerprint = ""
        decode_ms = None
        crop = values.get("crop")
        if upload is not None:
            # The shopper's photo is read into memory, checked and decoded there; it is never
            # written to disk, storage or logs.
            image, content, decode_ms = decode_photo(
                upload, min_edge=decode_edge_for(crop, look=values["look"])
            )
            fingerprint = image_fingerprint(content)
            del content
            if crop is not None:
                with search_errors():
                    image = crop_image(image, crop)
                # The same photo cropped differently is another query to the caches.
                fingerprint = f"{fingerprint}:{','.join(map(str, crop.as_list()))}"

        query = SearchQuery(
            text=text,
            image=image,
            negative=(values.get("negative") or "").strip() or None,
            text_weight=values.get("text_weight"),
            filter=filter_from(values.get("filters") or {}),
            limit=values["limit"],
            offset=values["offset"],
            min_score=values.get("min_score"),
            leg_weights=values.get("weights") or None,
            image_fingerprint=fingerprint,
            correct=values["typo_tolerance"],
            diversity=values["diversity"],
        )
        if values["look"]:
            return run_look(query, decode_ms=decode_ms or 0.0, request=request)
        return run_search(
            query, rerank=values["rerank"], request=request, view=self, decode_ms=decode_ms
        )

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
                    value = loads_limited(value) if value.strip() else {}
                except ParseError as exc:
                    raise ValidationError({key: f"Must be a JSON object: {exc.detail}"}) from None
            data[key] = value
        return data
