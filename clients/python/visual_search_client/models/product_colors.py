from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.source_enum import SourceEnum

if TYPE_CHECKING:
    from ..models.derived_colour import DerivedColour


T = TypeVar("T", bound="ProductColors")


@_attrs_define
class ProductColors:
    """
    Attributes:
        values (list[str]): The colours search filters this product by.
        source (SourceEnum): * `merchant` - merchant
            * `derived` - derived
            * `none` - none
        derived (list[DerivedColour]):
    """

    values: list[str]
    source: SourceEnum
    derived: list[DerivedColour]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        values = self.values

        source = self.source.value

        derived = []
        for derived_item_data in self.derived:
            derived_item = derived_item_data.to_dict()
            derived.append(derived_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "values": values,
                "source": source,
                "derived": derived,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.derived_colour import DerivedColour  # noqa: PLC0415

        d = dict(src_dict)
        values = cast(list[str], d.pop("values"))

        source = SourceEnum(d.pop("source"))

        derived = []
        _derived = d.pop("derived")
        for derived_item_data in _derived:
            derived_item = DerivedColour.from_dict(derived_item_data)

            derived.append(derived_item)

        product_colors = cls(
            values=values,
            source=source,
            derived=derived,
        )

        product_colors.additional_properties = d
        return product_colors

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
