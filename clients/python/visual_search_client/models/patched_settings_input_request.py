from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.rerank_enum import RerankEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="PatchedSettingsInputRequest")


@_attrs_define
class PatchedSettingsInputRequest:
    """Unknown fields are refused by name rather than ignored.

    Attributes:
        weight_image (float | None | Unset): The CLIP image leg's fusion weight (0 switches it off); null: the default.
        weight_text (float | None | Unset): The product-text leg's fusion weight (0 switches it off); null: the default.
        weight_keywords (float | None | Unset): The keyword leg's fusion weight (0 switches it off); null: the default.
        rrf_k (int | None | Unset):
        rerank (RerankEnum | Unset): * `request` - As the shopper's request asks
            * `on` - Always (first page)
            * `off` - Never
        rules (bool | Unset): false: no merchandising rules.
        image_collection (str | Unset): A built image collection (an index generation); empty: the live one.
    """

    weight_image: float | None | Unset = UNSET
    weight_text: float | None | Unset = UNSET
    weight_keywords: float | None | Unset = UNSET
    rrf_k: int | None | Unset = UNSET
    rerank: RerankEnum | Unset = UNSET
    rules: bool | Unset = UNSET
    image_collection: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        weight_image: float | None | Unset
        if isinstance(self.weight_image, Unset):
            weight_image = UNSET
        else:
            weight_image = self.weight_image

        weight_text: float | None | Unset
        if isinstance(self.weight_text, Unset):
            weight_text = UNSET
        else:
            weight_text = self.weight_text

        weight_keywords: float | None | Unset
        if isinstance(self.weight_keywords, Unset):
            weight_keywords = UNSET
        else:
            weight_keywords = self.weight_keywords

        rrf_k: int | None | Unset
        if isinstance(self.rrf_k, Unset):
            rrf_k = UNSET
        else:
            rrf_k = self.rrf_k

        rerank: str | Unset = UNSET
        if not isinstance(self.rerank, Unset):
            rerank = self.rerank.value

        rules = self.rules

        image_collection = self.image_collection

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if weight_image is not UNSET:
            field_dict["weight_image"] = weight_image
        if weight_text is not UNSET:
            field_dict["weight_text"] = weight_text
        if weight_keywords is not UNSET:
            field_dict["weight_keywords"] = weight_keywords
        if rrf_k is not UNSET:
            field_dict["rrf_k"] = rrf_k
        if rerank is not UNSET:
            field_dict["rerank"] = rerank
        if rules is not UNSET:
            field_dict["rules"] = rules
        if image_collection is not UNSET:
            field_dict["image_collection"] = image_collection

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_weight_image(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        weight_image = _parse_weight_image(d.pop("weight_image", UNSET))

        def _parse_weight_text(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        weight_text = _parse_weight_text(d.pop("weight_text", UNSET))

        def _parse_weight_keywords(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        weight_keywords = _parse_weight_keywords(d.pop("weight_keywords", UNSET))

        def _parse_rrf_k(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rrf_k = _parse_rrf_k(d.pop("rrf_k", UNSET))

        _rerank = d.pop("rerank", UNSET)
        rerank: RerankEnum | Unset
        if isinstance(_rerank, Unset):
            rerank = UNSET
        else:
            rerank = RerankEnum(_rerank)

        rules = d.pop("rules", UNSET)

        image_collection = d.pop("image_collection", UNSET)

        patched_settings_input_request = cls(
            weight_image=weight_image,
            weight_text=weight_text,
            weight_keywords=weight_keywords,
            rrf_k=rrf_k,
            rerank=rerank,
            rules=rules,
            image_collection=image_collection,
        )

        patched_settings_input_request.additional_properties = d
        return patched_settings_input_request

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
