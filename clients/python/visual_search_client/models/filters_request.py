from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.filters_request_attributes import FiltersRequestAttributes


T = TypeVar("T", bound="FiltersRequest")


@_attrs_define
class FiltersRequest:
    """
    Attributes:
        category (list[str] | Unset): One category or several (any of them).
        brand (list[str] | Unset): One brand or several (any of them).
        merchant (str | Unset): Merchant slug.
        color (list[str] | Unset): One colour or several (any of them): the merchant's colour where one was typed, else
            the colours derived from the product's images (the palette's names).
        attributes (FiltersRequestAttributes | Unset): Derived attributes, e.g. {"pattern": ["striped"]}: any of the
            values of each attribute named (the merchant's value where one was typed).
        price_min (str | Unset):
        price_max (str | Unset):
        in_stock (bool | None | Unset):
    """

    category: list[str] | Unset = UNSET
    brand: list[str] | Unset = UNSET
    merchant: str | Unset = UNSET
    color: list[str] | Unset = UNSET
    attributes: FiltersRequestAttributes | Unset = UNSET
    price_min: str | Unset = UNSET
    price_max: str | Unset = UNSET
    in_stock: bool | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        category: list[str] | Unset = UNSET
        if not isinstance(self.category, Unset):
            category = self.category

        brand: list[str] | Unset = UNSET
        if not isinstance(self.brand, Unset):
            brand = self.brand

        merchant = self.merchant

        color: list[str] | Unset = UNSET
        if not isinstance(self.color, Unset):
            color = self.color

        attributes: dict[str, Any] | Unset = UNSET
        if not isinstance(self.attributes, Unset):
            attributes = self.attributes.to_dict()

        price_min = self.price_min

        price_max = self.price_max

        in_stock: bool | None | Unset
        if isinstance(self.in_stock, Unset):
            in_stock = UNSET
        else:
            in_stock = self.in_stock

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if category is not UNSET:
            field_dict["category"] = category
        if brand is not UNSET:
            field_dict["brand"] = brand
        if merchant is not UNSET:
            field_dict["merchant"] = merchant
        if color is not UNSET:
            field_dict["color"] = color
        if attributes is not UNSET:
            field_dict["attributes"] = attributes
        if price_min is not UNSET:
            field_dict["price_min"] = price_min
        if price_max is not UNSET:
            field_dict["price_max"] = price_max
        if in_stock is not UNSET:
            field_dict["in_stock"] = in_stock

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.filters_request_attributes import FiltersRequestAttributes  # noqa: PLC0415

        d = dict(src_dict)
        category = cast(list[str], d.pop("category", UNSET))

        brand = cast(list[str], d.pop("brand", UNSET))

        merchant = d.pop("merchant", UNSET)

        color = cast(list[str], d.pop("color", UNSET))

        _attributes = d.pop("attributes", UNSET)
        attributes: FiltersRequestAttributes | Unset
        if isinstance(_attributes, Unset):
            attributes = UNSET
        else:
            attributes = FiltersRequestAttributes.from_dict(_attributes)

        price_min = d.pop("price_min", UNSET)

        price_max = d.pop("price_max", UNSET)

        def _parse_in_stock(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        in_stock = _parse_in_stock(d.pop("in_stock", UNSET))

        filters_request = cls(
            category=category,
            brand=brand,
            merchant=merchant,
            color=color,
            attributes=attributes,
            price_min=price_min,
            price_max=price_max,
            in_stock=in_stock,
        )

        filters_request.additional_properties = d
        return filters_request

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
