from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.filters_request import FiltersRequest
    from ..models.leg_weights_request import LegWeightsRequest


T = TypeVar("T", bound="SearchInputRequest")


@_attrs_define
class SearchInputRequest:
    """
    Attributes:
        text (str | Unset):
        filters (FiltersRequest | Unset):
        limit (int | Unset):  Default: 20.
        offset (int | Unset):  Default: 0.
        min_score (float | None | Unset): Minimum cosine similarity of the image leg.
        text_weight (float | None | Unset): Share of the text in a text+photo query (default 0.5).
        weights (LegWeightsRequest | Unset):
        rerank (bool | Unset):  Default: False.
        diversity (float | Unset): Spread the top results over different-looking products (MMR on the image vectors): 0
            keeps the ranking (default), 1 favours difference most. Default: 0.0.
        typo_tolerance (bool | Unset): Correct words the catalogue does not know to the closest ones it does (the
            response's `corrected`); false searches the words as typed. Default: True.
        crop (list[float] | str | Unset): Search this part of the photo only: x0,y0,x1,y1 normalised 0..1 (left, top,
            right, bottom) in the photo as it is shown upright, i.e. after its EXIF orientation. A list in JSON, the text
            `x0,y0,x1,y1` in multipart. Each side at least 0.02 of the photo and 16 pixels.
        look (bool | Unset): Shop the look: detect the items in the photo and answer one group of results per item
            (filters, text and limit apply to each); needs an image. Default: False.
        not_ (str | Unset): Negative text: moves the query away from this concept, q' = normalise(q - 0.5 * not).
    """

    text: str | Unset = UNSET
    filters: FiltersRequest | Unset = UNSET
    limit: int | Unset = 20
    offset: int | Unset = 0
    min_score: float | None | Unset = UNSET
    text_weight: float | None | Unset = UNSET
    weights: LegWeightsRequest | Unset = UNSET
    rerank: bool | Unset = False
    diversity: float | Unset = 0.0
    typo_tolerance: bool | Unset = True
    crop: list[float] | str | Unset = UNSET
    look: bool | Unset = False
    not_: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        text = self.text

        filters: dict[str, Any] | Unset = UNSET
        if not isinstance(self.filters, Unset):
            filters = self.filters.to_dict()

        limit = self.limit

        offset = self.offset

        min_score: float | None | Unset
        if isinstance(self.min_score, Unset):
            min_score = UNSET
        else:
            min_score = self.min_score

        text_weight: float | None | Unset
        if isinstance(self.text_weight, Unset):
            text_weight = UNSET
        else:
            text_weight = self.text_weight

        weights: dict[str, Any] | Unset = UNSET
        if not isinstance(self.weights, Unset):
            weights = self.weights.to_dict()

        rerank = self.rerank

        diversity = self.diversity

        typo_tolerance = self.typo_tolerance

        crop: list[float] | str | Unset
        if isinstance(self.crop, Unset):
            crop = UNSET
        elif isinstance(self.crop, list):
            crop = self.crop

        else:
            crop = self.crop

        look = self.look

        not_ = self.not_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if text is not UNSET:
            field_dict["text"] = text
        if filters is not UNSET:
            field_dict["filters"] = filters
        if limit is not UNSET:
            field_dict["limit"] = limit
        if offset is not UNSET:
            field_dict["offset"] = offset
        if min_score is not UNSET:
            field_dict["min_score"] = min_score
        if text_weight is not UNSET:
            field_dict["text_weight"] = text_weight
        if weights is not UNSET:
            field_dict["weights"] = weights
        if rerank is not UNSET:
            field_dict["rerank"] = rerank
        if diversity is not UNSET:
            field_dict["diversity"] = diversity
        if typo_tolerance is not UNSET:
            field_dict["typo_tolerance"] = typo_tolerance
        if crop is not UNSET:
            field_dict["crop"] = crop
        if look is not UNSET:
            field_dict["look"] = look
        if not_ is not UNSET:
            field_dict["not"] = not_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.filters_request import FiltersRequest  # noqa: PLC0415
        from ..models.leg_weights_request import LegWeightsRequest  # noqa: PLC0415

        d = dict(src_dict)
        text = d.pop("text", UNSET)

        _filters = d.pop("filters", UNSET)
        filters: FiltersRequest | Unset
        if isinstance(_filters, Unset):
            filters = UNSET
        else:
            filters = FiltersRequest.from_dict(_filters)

        limit = d.pop("limit", UNSET)

        offset = d.pop("offset", UNSET)

        def _parse_min_score(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        min_score = _parse_min_score(d.pop("min_score", UNSET))

        def _parse_text_weight(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        text_weight = _parse_text_weight(d.pop("text_weight", UNSET))

        _weights = d.pop("weights", UNSET)
        weights: LegWeightsRequest | Unset
        if isinstance(_weights, Unset):
            weights = UNSET
        else:
            weights = LegWeightsRequest.from_dict(_weights)

        rerank = d.pop("rerank", UNSET)

        diversity = d.pop("diversity", UNSET)

        typo_tolerance = d.pop("typo_tolerance", UNSET)

        def _parse_crop(data: object) -> list[float] | str | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                crop_type_0 = cast(list[float], data)

                return crop_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | str | Unset, data)

        crop = _parse_crop(d.pop("crop", UNSET))

        look = d.pop("look", UNSET)

        not_ = d.pop("not", UNSET)

        search_input_request = cls(
            text=text,
            filters=filters,
            limit=limit,
            offset=offset,
            min_score=min_score,
            text_weight=text_weight,
            weights=weights,
            rerank=rerank,
            diversity=diversity,
            typo_tolerance=typo_tolerance,
            crop=crop,
            look=look,
            not_=not_,
        )

        search_input_request.additional_properties = d
        return search_input_request

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
