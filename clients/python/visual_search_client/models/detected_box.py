from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="DetectedBox")


@_attrs_define
class DetectedBox:
    """
    Attributes:
        box (list[float]): x0,y0,x1,y1 normalised 0..1 in the upright photo. Example: [0.25, 0.1, 0.75, 0.9].
        label (str): What the detector calls it.
        score (float): The detector's confidence, 0..1.
    """

    box: list[float]
    label: str
    score: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        box = self.box

        label = self.label

        score = self.score

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "box": box,
                "label": label,
                "score": score,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        box = cast(list[float], d.pop("box"))

        label = d.pop("label")

        score = d.pop("score")

        detected_box = cls(
            box=box,
            label=label,
            score=score,
        )

        detected_box.additional_properties = d
        return detected_box

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
