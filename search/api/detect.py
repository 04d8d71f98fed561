"""``POST /api/v1/search/detect/``: the items in a shopper's photo, as boxes to search."""

import time

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from search.api.execute import record_stages, search_errors
from search.api.regions import DetectInputSerializer, DetectOutputSerializer
from search.api.throttles import SearchPhotoThrottle
from search.api.uploads import decode_photo, photo_upload_handlers
from search.encoding.registry import get_detector
from search.query.look import detect_items
from search.query.regions import decode_edge_for


class SearchDetectApi(APIView):
    """Detect the items in a photo; no search is run."""

    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser]
    throttle_classes = [SearchPhotoThrottle]

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body: the shopper's photo must never touch the disk.
        request.upload_handlers = photo_upload_handlers(request)
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        operation_id="search_detect",
        request={"multipart/form-data": DetectInputSerializer},
        responses={200: DetectOutputSerializer},
        description=(
            "The items a detector finds in the shopper's photo: boxes (x0,y0,x1,y1 normalised "
            "0..1 in the upright photo) with a label and a score, best first, at most "
            "DETECT_MAX_BOXES, never the whole photo. Search one with `crop` on "
            "`POST /api/v1/search/`, or all of them at once with `look`. 503 when this server "
            "has no detector (DETECTOR_ENABLED, DETECTOR_MODEL); cropping still works then."
        ),
        examples=[
            OpenApiExample(
                "Two items",
                value={
                    "boxes": [
                        {"box": [0.12, 0.3, 0.45, 0.95], "label": "handbag", "score": 0.91},
                        {"box": [0.55, 0.1, 0.9, 0.7], "label": "chair", "score": 0.74},
                    ],
                    "model": "hustvl/yolos-tiny",
                    "took_ms": 84.2,
                },
                response_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        try:
            upload = request.FILES.get("image")
        except ParseError as exc:
            raise ValidationError({"body": f"Malformed request body: {exc.detail}"}) from None
        if upload is None:
            raise ValidationError({"image": "Send the photo as the multipart file `image`."})
        with search_errors("Object detection"):
            detector = get_detector()
            detector.load()  # before the decode: a server without a detector answers at once
        image, content, decode_ms = decode_photo(upload, min_edge=decode_edge_for(None, look=True))
        del content
        started = time.perf_counter()
        with search_errors("Object detection"):
            detections = detect_items(image, detector)
        detect_ms = (time.perf_counter() - started) * 1000
        record_stages("detect", {"decode": decode_ms, "detect": detect_ms})
        return Response(
            {
                "boxes": [
                    {"box": list(d.box), "label": d.label, "score": d.score} for d in detections
                ],
                "model": detector.display_name,
                "took_ms": round(decode_ms + detect_ms, 2),
            }
        )
