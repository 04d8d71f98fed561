from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.product_input_request_attributes import ProductInputRequestAttributes


T = TypeVar("T", bound="ProductInputRequest")


@_attrs_define
class ProductInputRequest:
    """
    Attributes:
        sku (str):
        title (str):
        price (str):
        merchant (str | Unset): Merchant slug; needed only when the caller belongs to several merchants.
        gtin (str | Unset): GTIN, EAN or UPC: 8 to 14 digits (spaces and dashes allowed).
        mpn (str | Unset): Manufacturer part number. Default: ''.
        description (str | Unset):  Default: ''.
        brand (str | Unset):  Default: ''.
        category (str | Unset):  Default: ''.
        currency (str | Unset):  Default: 'USD'.
        in_stock (bool | Unset):  Default: True.
        attributes (ProductInputRequestAttributes | Unset):
        is_active (bool | Unset):  Default: True.
    """

    sku: str
    title: str
    price: str
    merchant: str | Unset = UNSET
    gtin: str | Unset = UNSET
    mpn: str | Unset = ""
    description: str | Unset = ""
    brand: str | Unset = ""
    category: str | Unset = ""
    currency: str | Unset = "USD"
    in_stock: bool | Unset = True
    attributes: ProductInputRequestAttributes | Unset = UNSET
    is_active: bool | Unset = True
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        sku = self.sku

        title = self.title

        price = self.price

        merchant = self.merchant

        gtin: str | Unset
        if isinstance(self.gtin, Unset):
            gtin = UNSET
        else:
            gtin = self.gtin

        mpn = self.mpn

        description = self.description

        brand = self.brand

        category = self.category

        currency = self.currency

        in_stock = self.in_stock

        attributes: dict[str, Any] | Unset = UNSET
        if not isinstance(self.attributes, Unset):
            attributes = self.attributes.to_dict()

        is_active = self.is_active

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "sku": sku,
                "title": title,
                "price": price,
            }
        )
        if merchant is not UNSET:
            field_dict["merchant"] = merchant
        if gtin is not UNSET:
            field_dict["gtin"] = gtin
        if mpn is not UNSET:
            field_dict["mpn"] = mpn
        if description is not UNSET:
            field_dict["description"] = description
        if brand is not UNSET:
            field_dict["brand"] = brand
        if category is not UNSET:
            field_dict["category"] = category
        if currency is not UNSET:
            field_dict["currency"] = currency
        if in_stock is not UNSET:
            field_dict["in_stock"] = in_stock
        if attributes is not UNSET:
            field_dict["attributes"] = attributes
        if is_active is not UNSET:
            field_dict["is_active"] = is_active

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.product_input_request_attributes import ProductInputRequestAttributes  # noqa: PLC0415

        d = dict(src_dict)
        sku = d.pop("sku")

        title = d.pop("title")

        price = d.pop("price")

        merchant = d.pop("merchant", UNSET)

        def _parse_gtin(data: object) -> str | Unset:
            if isinstance(data, Unset):
                return data
            return cast(str | Unset, data)

        gtin = _parse_gtin(d.pop("gtin", UNSET))

        mpn = d.pop("mpn", UNSET)

        description = d.pop("description", UNSET)

        brand = d.pop("brand", UNSET)

        category = d.pop("category", UNSET)

        currency = d.pop("currency", UNSET)

        in_stock = d.pop("in_stock", UNSET)

        _attributes = d.pop("attributes", UNSET)
        attributes: ProductInputRequestAttributes | Unset
        if isinstance(_attributes, Unset):
            attributes = UNSET
        else:
            attributes = ProductInputRequestAttributes.from_dict(_attributes)

        is_active = d.pop("is_active", UNSET)

        product_input_request = cls(
            sku=sku,
            title=title,
            price=price,
            merchant=merchant,
            gtin=gtin,
            mpn=mpn,
            description=description,
            brand=brand,
            category=category,
            currency=currency,
            in_stock=in_stock,
            attributes=attributes,
            is_active=is_active,
        )

        product_input_request.additional_properties = d
        return product_input_request

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
