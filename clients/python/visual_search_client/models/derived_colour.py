from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="DerivedColour")


@_attrs_define
class DerivedColour:
    """
    Attributes:
        name (str):
        share (float): Of the product's pixels, 0..1 (the confidence).
        hex_ (str | Unset):
    """

    name: str
    share: float
    hex_: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        share = self.share

        hex_ = self.hex_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "share": share,
            }
        )
        if hex_ is not UNSET:
            field_dict["hex"] = hex_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        share = d.pop("share")

        hex_ = d.pop("hex", UNSET)

        derived_colour = cls(
            name=name,
            share=share,
            hex_=hex_,
        )

        derived_colour.additional_properties = d
        return derived_colour

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
