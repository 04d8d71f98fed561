from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.product_colors import ProductColors
    from ..models.product_output_derived_attributes import ProductOutputDerivedAttributes


T = TypeVar("T", bound="ProductOutput")


@_attrs_define
class ProductOutput:
    """
    Attributes:
        id (int):
        merchant (str):
        sku (str):
        title (str):
        price (str):
        image_count (int):  Default: 0.
        colors (ProductColors):
        derived_attributes (ProductOutputDerivedAttributes): Per zero-shot attribute: the values search filters by,
            their source (merchant or derived) and what was derived with its confidence. Type a value in `attributes` under
            the same name to correct one.
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        gtin (str | Unset): GTIN, EAN or UPC barcode number, where known.
        mpn (str | Unset): Manufacturer part number.
        description (str | Unset):
        brand (str | Unset):
        category (str | Unset):
        currency (str | Unset):
        in_stock (bool | Unset):
        attributes (Any | Unset):
        is_active (bool | Unset):
    """

    id: int
    merchant: str
    sku: str
    title: str
    price: str
    colors: ProductColors
    derived_attributes: ProductOutputDerivedAttributes
    created_at: datetime.datetime
    updated_at: datetime.datetime
    image_count: int = 0
    gtin: str | Unset = UNSET
    mpn: str | Unset = UNSET
    description: str | Unset = UNSET
    brand: str | Unset = UNSET
    category: str | Unset = UNSET
    currency: str | Unset = UNSET
    in_stock: bool | Unset = UNSET
    attributes: Any | Unset = UNSET
    is_active: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        merchant = self.merchant

        sku = self.sku

        title = self.title

        price = self.price

        image_count = self.image_count

        colors = self.colors.to_dict()

        derived_attributes = self.derived_attributes.to_dict()

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        gtin = self.gtin

        mpn = self.mpn

        description = self.description

        brand = self.brand

        category = self.category

        currency = self.currency

        in_stock = self.in_stock

        attributes = self.attributes

        is_active = self.is_active

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "merchant": merchant,
                "sku": sku,
                "title": title,
                "price": price,
                "image_count": image_count,
                "colors": colors,
                "derived_attributes": derived_attributes,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
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
        from ..models.product_colors import ProductColors  # noqa: PLC0415
        from ..models.product_output_derived_attributes import ProductOutputDerivedAttributes  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        merchant = d.pop("merchant")

        sku = d.pop("sku")

        title = d.pop("title")

        price = d.pop("price")

        image_count = d.pop("image_count")

        colors = ProductColors.from_dict(d.pop("colors"))

        derived_attributes = ProductOutputDerivedAttributes.from_dict(d.pop("derived_attributes"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        gtin = d.pop("gtin", UNSET)

        mpn = d.pop("mpn", UNSET)

        description = d.pop("description", UNSET)

        brand = d.pop("brand", UNSET)

        category = d.pop("category", UNSET)

        currency = d.pop("currency", UNSET)

        in_stock = d.pop("in_stock", UNSET)

        attributes = d.pop("attributes", UNSET)

        is_active = d.pop("is_active", UNSET)

        product_output = cls(
            id=id,
            merchant=merchant,
            sku=sku,
            title=title,
            price=price,
            image_count=image_count,
            colors=colors,
            derived_attributes=derived_attributes,
            created_at=created_at,
            updated_at=updated_at,
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

        product_output.additional_properties = d
        return product_output

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
