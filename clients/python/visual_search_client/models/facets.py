from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.facets_attributes import FacetsAttributes
    from ..models.facets_brand import FacetsBrand
    from ..models.facets_category import FacetsCategory
    from ..models.facets_color import FacetsColor
    from ..models.price_band import PriceBand


T = TypeVar("T", bound="Facets")


@_attrs_define
class Facets:
    """
    Attributes:
        category (FacetsCategory):
        brand (FacetsBrand):
        color (FacetsColor):
        attributes (FacetsAttributes): Per derived attribute, products per value.
        price (list[PriceBand]):
    """

    category: FacetsCategory
    brand: FacetsBrand
    color: FacetsColor
    attributes: FacetsAttributes
    price: list[PriceBand]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        category = self.category.to_dict()

        brand = self.brand.to_dict()

        color = self.color.to_dict()

        attributes = self.attributes.to_dict()

        price = []
        for price_item_data in self.price:
            price_item = price_item_data.to_dict()
            price.append(price_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "category": category,
                "brand": brand,
                "color": color,
                "attributes": attributes,
                "price": price,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.facets_attributes import FacetsAttributes  # noqa: PLC0415
        from ..models.facets_brand import FacetsBrand  # noqa: PLC0415
        from ..models.facets_category import FacetsCategory  # noqa: PLC0415
        from ..models.facets_color import FacetsColor  # noqa: PLC0415
        from ..models.price_band import PriceBand  # noqa: PLC0415

        d = dict(src_dict)
        category = FacetsCategory.from_dict(d.pop("category"))

        brand = FacetsBrand.from_dict(d.pop("brand"))

        color = FacetsColor.from_dict(d.pop("color"))

        attributes = FacetsAttributes.from_dict(d.pop("attributes"))

        price = []
        _price = d.pop("price")
        for price_item_data in _price:
            price_item = PriceBand.from_dict(price_item_data)

            price.append(price_item)

        facets = cls(
            category=category,
            brand=brand,
            color=color,
            attributes=attributes,
            price=price,
        )

        facets.additional_properties = d
        return facets

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
