from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SearchSettingsOutput")


@_attrs_define
class SearchSettingsOutput:
    """
    Attributes:
        weight_image (float | None):
        weight_text (float | None):
        weight_keywords (float | None):
        rrf_k (int | None):
        rerank (str):
        rules (bool):
        image_collection (str):
        updated_at (datetime.datetime):
    """

    weight_image: float | None
    weight_text: float | None
    weight_keywords: float | None
    rrf_k: int | None
    rerank: str
    rules: bool
    image_collection: str
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        weight_image: float | None
        weight_image = self.weight_image

        weight_text: float | None
        weight_text = self.weight_text

        weight_keywords: float | None
        weight_keywords = self.weight_keywords

        rrf_k: int | None
        rrf_k = self.rrf_k

        rerank = self.rerank

        rules = self.rules

        image_collection = self.image_collection

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "weight_image": weight_image,
                "weight_text": weight_text,
                "weight_keywords": weight_keywords,
                "rrf_k": rrf_k,
                "rerank": rerank,
                "rules": rules,
                "image_collection": image_collection,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_weight_image(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        weight_image = _parse_weight_image(d.pop("weight_image"))

        def _parse_weight_text(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        weight_text = _parse_weight_text(d.pop("weight_text"))

        def _parse_weight_keywords(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        weight_keywords = _parse_weight_keywords(d.pop("weight_keywords"))

        def _parse_rrf_k(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        rrf_k = _parse_rrf_k(d.pop("rrf_k"))

        rerank = d.pop("rerank")

        rules = d.pop("rules")

        image_collection = d.pop("image_collection")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        search_settings_output = cls(
            weight_image=weight_image,
            weight_text=weight_text,
            weight_keywords=weight_keywords,
            rrf_k=rrf_k,
            rerank=rerank,
            rules=rules,
            image_collection=image_collection,
            updated_at=updated_at,
        )

        search_settings_output.additional_properties = d
        return search_settings_output

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
