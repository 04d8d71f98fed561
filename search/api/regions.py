"""The region fields of the search API: ``crop`` (a box the shopper drew) and the boxes
``/search/detect/`` and ``"look": true`` answer with."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from search.query.regions import Box, parse_box
from search.query.types import SearchInputError

BOX_SCHEMA = {
    "type": "array",
    "items": {"type": "number", "minimum": 0, "maximum": 1},
    "minItems": 4,
    "maxItems": 4,
    "example": [0.25, 0.1, 0.75, 0.9],
}


@extend_schema_field(
    {
        "oneOf": [
            BOX_SCHEMA,
            {
                "type": "string",
                # A multipart form carries the box as text: "x0,y0,x1,y1".
                "pattern": r"^\s*[0-9.eE+-]+\s*(,\s*[0-9.eE+-]+\s*){3}$",
                "example": "0.25,0.1,0.75,0.9",
            },
        ],
        "description": (
            "Search this part of the photo only: x0,y0,x1,y1 normalised 0..1 (left, top, right, "
            "bottom) in the photo as it is shown upright, i.e. after its EXIF orientation. A "
            "list in JSON, the text `x0,y0,x1,y1` in multipart. Each side at least 0.02 of the "
            "photo and 16 pixels."
        ),
    }
)
class CropField(serializers.Field):
    def to_internal_value(self, data) -> Box:
        try:
            return parse_box(data, field=self.field_name or "crop")
        except SearchInputError as exc:
            raise ValidationError(str(exc)) from None

    def to_representation(self, value: Box) -> list[float]:
        return value.as_list()


class FormBooleanField(serializers.BooleanField):
    """true or false: a JSON boolean, or the words in a multipart form. DRF's own also takes
    0, 1 and "yes", which the schema (boolean) does not allow."""

    def to_internal_value(self, data) -> bool:
        if isinstance(data, bool):
            return data
        if self.context.get("multipart") and isinstance(data, str):
            word = data.strip().lower()
            if word in ("true", "false"):
                return word == "true"
        self.fail("invalid", input=data)
        raise AssertionError("unreachable")  # fail() raises


@extend_schema_field(BOX_SCHEMA)
class BoxField(serializers.ListField):
    child = serializers.FloatField()


class DetectedBoxSerializer(serializers.Serializer):
    box = BoxField(help_text="x0,y0,x1,y1 normalised 0..1 in the upright photo.")
    label = serializers.CharField(help_text="What the detector calls it.")  # type: ignore[assignment]  # a field, popped by the metaclass
    score = serializers.FloatField(help_text="The detector's confidence, 0..1.")


class DetectOutputSerializer(serializers.Serializer):
    boxes = DetectedBoxSerializer(many=True)
    model = serializers.CharField(help_text="The detector model that found them.")
    took_ms = serializers.FloatField()


class DetectInputSerializer(serializers.Serializer):
    image = serializers.FileField(
        help_text="The shopper's photo: JPEG, PNG or WebP. Kept in memory only."
    )
