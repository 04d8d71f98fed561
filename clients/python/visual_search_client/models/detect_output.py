from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.detected_box import DetectedBox


T = TypeVar("T", bound="DetectOutput")


@_attrs_define
class DetectOutput:
    """
    Attributes:
        boxes (list[DetectedBox]):
        model (str): The detector model that found them.
        took_ms (float):
    """

    boxes: list[DetectedBox]
    model: str
    took_ms: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        boxes = []
        for boxes_item_data in self.boxes:
            boxes_item = boxes_item_data.to_dict()
            boxes.append(boxes_item)

        model = self.model

        took_ms = self.took_ms

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "boxes": boxes,
                "model": model,
                "took_ms": took_ms,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.detected_box import DetectedBox  # noqa: PLC0415

        d = dict(src_dict)
        boxes = []
        _boxes = d.pop("boxes")
        for boxes_item_data in _boxes:
            boxes_item = DetectedBox.from_dict(boxes_item_data)

            boxes.append(boxes_item)

        model = d.pop("model")

        took_ms = d.pop("took_ms")

        detect_output = cls(
            boxes=boxes,
            model=model,
            took_ms=took_ms,
        )

        detect_output.additional_properties = d
        return detect_output

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
