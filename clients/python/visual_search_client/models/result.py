from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.result_match_enum import ResultMatchEnum

if TYPE_CHECKING:
    from ..models.result_legs import ResultLegs


T = TypeVar("T", bound="Result")


@_attrs_define
class Result:
    """
    Attributes:
        product_id (int):
        title (str):
        price (str):
        currency (str):
        brand (str):
        category (str):
        merchant (str): Merchant slug.
        merchant_name (str):
        in_stock (bool):
        image_id (int | None):
        image_url (None | str):
        thumbnail_url (None | str):
        score (float):
        legs (ResultLegs): Rank of this product in each leg that found it.
        reranked_by (None | str): The model that re-ordered this result, when one did.
        match (None | ResultMatchEnum): `identifier`: the query is this product's SKU, GTIN or MPN (case and separators
            aside), so it comes first.

            * `identifier` - identifier
        rules (list[str]): Ids of the merchandising rules that placed this result (pin, boost, bury, click model).
    """

    product_id: int
    title: str
    price: str
    currency: str
    brand: str
    category: str
    merchant: str
    merchant_name: str
    in_stock: bool
    image_id: int | None
    image_url: None | str
    thumbnail_url: None | str
    score: float
    legs: ResultLegs
    reranked_by: None | str
    match: None | ResultMatchEnum
    rules: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        product_id = self.product_id

        title = self.title

        price = self.price

        currency = self.currency

        brand = self.brand

        category = self.category

        merchant = self.merchant

        merchant_name = self.merchant_name

        in_stock = self.in_stock

        image_id: int | None
        image_id = self.image_id

        image_url: None | str
        image_url = self.image_url

        thumbnail_url: None | str
        thumbnail_url = self.thumbnail_url

        score = self.score

        legs = self.legs.to_dict()

        reranked_by: None | str
        reranked_by = self.reranked_by

        match: None | str
        if isinstance(self.match, ResultMatchEnum):
            match = self.match.value
        else:
            match = self.match

        rules = self.rules

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "product_id": product_id,
                "title": title,
                "price": price,
                "currency": currency,
                "brand": brand,
                "category": category,
                "merchant": merchant,
                "merchant_name": merchant_name,
                "in_stock": in_stock,
                "image_id": image_id,
                "image_url": image_url,
                "thumbnail_url": thumbnail_url,
                "score": score,
                "legs": legs,
                "reranked_by": reranked_by,
                "match": match,
                "rules": rules,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.result_legs import ResultLegs  # noqa: PLC0415

        d = dict(src_dict)
        product_id = d.pop("product_id")

        title = d.pop("title")

        price = d.pop("price")

        currency = d.pop("currency")

        brand = d.pop("brand")

        category = d.pop("category")

        merchant = d.pop("merchant")

        merchant_name = d.pop("merchant_name")

        in_stock = d.pop("in_stock")

        def _parse_image_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        image_id = _parse_image_id(d.pop("image_id"))

        def _parse_image_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        image_url = _parse_image_url(d.pop("image_url"))

        def _parse_thumbnail_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        thumbnail_url = _parse_thumbnail_url(d.pop("thumbnail_url"))

        score = d.pop("score")

        legs = ResultLegs.from_dict(d.pop("legs"))

        def _parse_reranked_by(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reranked_by = _parse_reranked_by(d.pop("reranked_by"))

        def _parse_match(data: object) -> None | ResultMatchEnum:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                match_type_0 = ResultMatchEnum(data)

                return match_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ResultMatchEnum, data)

        match = _parse_match(d.pop("match"))

        rules = cast(list[str], d.pop("rules"))

        result = cls(
            product_id=product_id,
            title=title,
            price=price,
            currency=currency,
            brand=brand,
            category=category,
            merchant=merchant,
            merchant_name=merchant_name,
            in_stock=in_stock,
            image_id=image_id,
            image_url=image_url,
            thumbnail_url=thumbnail_url,
            score=score,
            legs=legs,
            reranked_by=reranked_by,
            match=match,
            rules=rules,
        )

        result.additional_properties = d
        return result

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
