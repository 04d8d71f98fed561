from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.product_output_derived_attributes_additional_property import (
        ProductOutputDerivedAttributesAdditionalProperty,
    )


T = TypeVar("T", bound="ProductOutputDerivedAttributes")


@_attrs_define
class ProductOutputDerivedAttributes:
    """Per zero-shot attribute: the values search filters by, their source (merchant or derived) and what was derived with
    its confidence. Type a value in `attributes` under the same name to correct one.

    """

    additional_properties: dict[str, ProductOutputDerivedAttributesAdditionalProperty] = _attrs_field(
        init=False, factory=dict
    )

    def to_dict(self) -> dict[str, Any]:

        field_dict: dict[str, Any] = {}
        for prop_name, prop in self.additional_properties.items():
            field_dict[prop_name] = prop.to_dict()

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.product_output_derived_attributes_additional_property import (
            ProductOutputDerivedAttributesAdditionalProperty,  # noqa: PLC0415
        )

        d = dict(src_dict)
        product_output_derived_attributes = cls()

        additional_properties = {}
        for prop_name, prop_dict in d.items():
            additional_property = ProductOutputDerivedAttributesAdditionalProperty.from_dict(prop_dict)

            additional_properties[prop_name] = additional_property

        product_output_derived_attributes.additional_properties = additional_properties
        return product_output_derived_attributes

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> ProductOutputDerivedAttributesAdditionalProperty:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: ProductOutputDerivedAttributesAdditionalProperty) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
