from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.attribute_enum import AttributeEnum
from ..models.blank_enum import BlankEnum
from ..models.rule_kind_enum import RuleKindEnum
from ..models.rule_match_enum import RuleMatchEnum
from ..models.synonym_type_enum import SynonymTypeEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="RuleInputRequest")


@_attrs_define
class RuleInputRequest:
    """
    Attributes:
        name (str):
        kind (RuleKindEnum): * `synonym` - Synonyms
            * `pin` - Pin a product
            * `boost` - Boost
            * `bury` - Bury
            * `hide` - Hide a product
            * `click_model` - Click model (boost learned from clicks)
        merchant (None | str | Unset): Merchant slug; null: shop-wide (shop staff).
        enabled (bool | Unset):  Default: True.
        starts_at (datetime.datetime | None | Unset):
        ends_at (datetime.datetime | None | Unset):
        match (RuleMatchEnum | Unset): * `exact` - The query is exactly this (case and spaces aside)
            * `words` - The query has these words (any order, singular or plural)
            * `any` - Any query
        query (str | Unset):
        filter_category (str | Unset):
        synonym_type (SynonymTypeEnum | Unset): * `two_way` - Two-way: every term finds the others
            * `one_way` - One-way: the query terms also find the synonyms
        terms (str | Unset):
        synonyms (str | Unset):
        product (int | None | Unset):
        position (int | None | Unset):
        attribute (AttributeEnum | BlankEnum | Unset):
        value (str | Unset):
        price_min (None | str | Unset):
        price_max (None | str | Unset):
        weight (float | Unset):
    """

    name: str
    kind: RuleKindEnum
    merchant: None | str | Unset = UNSET
    enabled: bool | Unset = True
    starts_at: datetime.datetime | None | Unset = UNSET
    ends_at: datetime.datetime | None | Unset = UNSET
    match: RuleMatchEnum | Unset = UNSET
    query: str | Unset = UNSET
    filter_category: str | Unset = UNSET
    synonym_type: SynonymTypeEnum | Unset = UNSET
    terms: str | Unset = UNSET
    synonyms: str | Unset = UNSET
    product: int | None | Unset = UNSET
    position: int | None | Unset = UNSET
    attribute: AttributeEnum | BlankEnum | Unset = UNSET
    value: str | Unset = UNSET
    price_min: None | str | Unset = UNSET
    price_max: None | str | Unset = UNSET
    weight: float | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        kind = self.kind.value

        merchant: None | str | Unset
        if isinstance(self.merchant, Unset):
            merchant = UNSET
        else:
            merchant = self.merchant

        enabled = self.enabled

        starts_at: None | str | Unset
        if isinstance(self.starts_at, Unset):
            starts_at = UNSET
        elif isinstance(self.starts_at, datetime.datetime):
            starts_at = self.starts_at.isoformat()
        else:
            starts_at = self.starts_at

        ends_at: None | str | Unset
        if isinstance(self.ends_at, Unset):
            ends_at = UNSET
        elif isinstance(self.ends_at, datetime.datetime):
            ends_at = self.ends_at.isoformat()
        else:
            ends_at = self.ends_at

        match: str | Unset = UNSET
        if not isinstance(self.match, Unset):
            match = self.match.value

        query = self.query

        filter_category = self.filter_category

        synonym_type: str | Unset = UNSET
        if not isinstance(self.synonym_type, Unset):
            synonym_type = self.synonym_type.value

        terms = self.terms

        synonyms = self.synonyms

        product: int | None | Unset
        if isinstance(self.product, Unset):
            product = UNSET
        else:
            product = self.product

        position: int | None | Unset
        if isinstance(self.position, Unset):
            position = UNSET
        else:
            position = self.position

        attribute: str | Unset
        if isinstance(self.attribute, Unset):
            attribute = UNSET
        elif isinstance(self.attribute, AttributeEnum):
            attribute = self.attribute.value
        else:
            attribute = self.attribute.value

        value = self.value

        price_min: None | str | Unset
        if isinstance(self.price_min, Unset):
            price_min = UNSET
        else:
            price_min = self.price_min

        price_max: None | str | Unset
        if isinstance(self.price_max, Unset):
            price_max = UNSET
        else:
            price_max = self.price_max

        weight = self.weight

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "kind": kind,
            }
        )
        if merchant is not UNSET:
            field_dict["merchant"] = merchant
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if starts_at is not UNSET:
            field_dict["starts_at"] = starts_at
        if ends_at is not UNSET:
            field_dict["ends_at"] = ends_at
        if match is not UNSET:
            field_dict["match"] = match
        if query is not UNSET:
            field_dict["query"] = query
        if filter_category is not UNSET:
            field_dict["filter_category"] = filter_category
        if synonym_type is not UNSET:
            field_dict["synonym_type"] = synonym_type
        if terms is not UNSET:
            field_dict["terms"] = terms
        if synonyms is not UNSET:
            field_dict["synonyms"] = synonyms
        if product is not UNSET:
            field_dict["product"] = product
        if position is not UNSET:
            field_dict["position"] = position
        if attribute is not UNSET:
            field_dict["attribute"] = attribute
        if value is not UNSET:
            field_dict["value"] = value
        if price_min is not UNSET:
            field_dict["price_min"] = price_min
        if price_max is not UNSET:
            field_dict["price_max"] = price_max
        if weight is not UNSET:
            field_dict["weight"] = weight

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        kind = RuleKindEnum(d.pop("kind"))

        def _parse_merchant(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        merchant = _parse_merchant(d.pop("merchant", UNSET))

        enabled = d.pop("enabled", UNSET)

        def _parse_starts_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                starts_at_type_0 = datetime.datetime.fromisoformat(data)

                return starts_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        starts_at = _parse_starts_at(d.pop("starts_at", UNSET))

        def _parse_ends_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                ends_at_type_0 = datetime.datetime.fromisoformat(data)

                return ends_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        ends_at = _parse_ends_at(d.pop("ends_at", UNSET))

        _match = d.pop("match", UNSET)
        match: RuleMatchEnum | Unset
        if isinstance(_match, Unset):
            match = UNSET
        else:
            match = RuleMatchEnum(_match)

        query = d.pop("query", UNSET)

        filter_category = d.pop("filter_category", UNSET)

        _synonym_type = d.pop("synonym_type", UNSET)
        synonym_type: SynonymTypeEnum | Unset
        if isinstance(_synonym_type, Unset):
            synonym_type = UNSET
        else:
            synonym_type = SynonymTypeEnum(_synonym_type)

        terms = d.pop("terms", UNSET)

        synonyms = d.pop("synonyms", UNSET)

        def _parse_product(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        product = _parse_product(d.pop("product", UNSET))

        def _parse_position(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        position = _parse_position(d.pop("position", UNSET))

        def _parse_attribute(data: object) -> AttributeEnum | BlankEnum | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                attribute_type_0 = AttributeEnum(data)

                return attribute_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, str):
                raise TypeError()
            attribute_type_1 = BlankEnum(data)

            return attribute_type_1

        attribute = _parse_attribute(d.pop("attribute", UNSET))

        value = d.pop("value", UNSET)

        def _parse_price_min(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        price_min = _parse_price_min(d.pop("price_min", UNSET))

        def _parse_price_max(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        price_max = _parse_price_max(d.pop("price_max", UNSET))

        weight = d.pop("weight", UNSET)

        rule_input_request = cls(
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
        )

        rule_input_request.additional_properties = d
        return rule_input_request

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
