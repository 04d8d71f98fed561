from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.attribute_enum import AttributeEnum
from ..models.rule_kind_enum import RuleKindEnum
from ..models.rule_match_enum import RuleMatchEnum
from ..models.synonym_type_enum import SynonymTypeEnum

T = TypeVar("T", bound="RuleOutput")


@_attrs_define
class RuleOutput:
    """
    Attributes:
        id (int):
        name (str):
        kind (RuleKindEnum): * `synonym` - Synonyms
            * `pin` - Pin a product
            * `boost` - Boost
            * `bury` - Bury
            * `hide` - Hide a product
            * `click_model` - Click model (boost learned from clicks)
        merchant (None | str):
        enabled (bool):
        starts_at (datetime.datetime | None): Empty: already started.
        ends_at (datetime.datetime | None): Empty: never ends.
        match (RuleMatchEnum): * `exact` - The query is exactly this (case and spaces aside)
            * `words` - The query has these words (any order, singular or plural)
            * `any` - Any query
        query (str):
        filter_category (str): Only for searches filtered to this category (for a pin: the query may be empty).
        synonym_type (SynonymTypeEnum): * `two_way` - Two-way: every term finds the others
            * `one_way` - One-way: the query terms also find the synonyms
        terms (str): Comma-separated.
        synonyms (str): One-way only: what the terms also find.
        product (int | None):
        position (int | None):
        attribute (AttributeEnum): * `brand` - Brand
            * `category` - Category
            * `merchant` - Merchant (slug)
            * `in_stock` - In stock
            * `price` - Price range
            * `tag` - Tag (product attribute `tags`)
        value (str): Brand, category, merchant slug or tag.
        price_min (None | str):
        price_max (None | str):
        weight (float):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    id: int
    name: str
    kind: RuleKindEnum
    merchant: None | str
    enabled: bool
    starts_at: datetime.datetime | None
    ends_at: datetime.datetime | None
    match: RuleMatchEnum
    query: str
    filter_category: str
    synonym_type: SynonymTypeEnum
    terms: str
    synonyms: str
    product: int | None
    position: int | None
    attribute: AttributeEnum
    value: str
    price_min: None | str
    price_max: None | str
    weight: float
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        kind = self.kind.value

        merchant: None | str
        merchant = self.merchant

        enabled = self.enabled

        starts_at: None | str
        if isinstance(self.starts_at, datetime.datetime):
            starts_at = self.starts_at.isoformat()
        else:
            starts_at = self.starts_at

        ends_at: None | str
        if isinstance(self.ends_at, datetime.datetime):
            ends_at = self.ends_at.isoformat()
        else:
            ends_at = self.ends_at

        match = self.match.value

        query = self.query

        filter_category = self.filter_category

        synonym_type = self.synonym_type.value

        terms = self.terms

        synonyms = self.synonyms

        product: int | None
        product = self.product

        position: int | None
        position = self.position

        attribute = self.attribute.value

        value = self.value

        price_min: None | str
        price_min = self.price_min

        price_max: None | str
        price_max = self.price_max

        weight = self.weight

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "kind": kind,
                "merchant": merchant,
                "enabled": enabled,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "match": match,
                "query": query,
                "filter_category": filter_category,
                "synonym_type": synonym_type,
                "terms": terms,
                "synonyms": synonyms,
                "product": product,
                "position": position,
                "attribute": attribute,
                "value": value,
                "price_min": price_min,
                "price_max": price_max,
                "weight": weight,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        kind = RuleKindEnum(d.pop("kind"))

        def _parse_merchant(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        merchant = _parse_merchant(d.pop("merchant"))

        enabled = d.pop("enabled")

        def _parse_starts_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                starts_at_type_0 = datetime.datetime.fromisoformat(data)

                return starts_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        starts_at = _parse_starts_at(d.pop("starts_at"))

        def _parse_ends_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                ends_at_type_0 = datetime.datetime.fromisoformat(data)

                return ends_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        ends_at = _parse_ends_at(d.pop("ends_at"))

        match = RuleMatchEnum(d.pop("match"))

        query = d.pop("query")

        filter_category = d.pop("filter_category")

        synonym_type = SynonymTypeEnum(d.pop("synonym_type"))

        terms = d.pop("terms")

        synonyms = d.pop("synonyms")

        def _parse_product(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        product = _parse_product(d.pop("product"))

        def _parse_position(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        position = _parse_position(d.pop("position"))

        attribute = AttributeEnum(d.pop("attribute"))

        value = d.pop("value")

        def _parse_price_min(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        price_min = _parse_price_min(d.pop("price_min"))

        def _parse_price_max(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        price_max = _parse_price_max(d.pop("price_max"))

        weight = d.pop("weight")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        rule_output = cls(
            id=id,
            name=name,
            kind=kind,
            merchant=merchant,
            enabled=enabled,
            starts_at=starts_at,
            ends_at=ends_at,
            match=match,
            query=query,
            filter_category=filter_category,
            synonym_type=synonym_type,
            terms=terms,
            synonyms=synonyms,
            product=product,
            position=position,
            attribute=attribute,
            value=value,
            price_min=price_min,
            price_max=price_max,
            weight=weight,
            created_at=created_at,
            updated_at=updated_at,
        )

        rule_output.additional_properties = d
        return rule_output

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
