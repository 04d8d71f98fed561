from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.search_output_query_type_enum import SearchOutputQueryTypeEnum
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.applied_rule import AppliedRule
    from ..models.experiment_tag import ExperimentTag
    from ..models.facets import Facets
    from ..models.recognised import Recognised
    from ..models.result import Result
    from ..models.search_output_stages import SearchOutputStages


T = TypeVar("T", bound="SearchOutput")


@_attrs_define
class SearchOutput:
    """
    Attributes:
        search_id (UUID): This search's id: send it with the click, add_to_cart and purchase events that follow (POST
            /api/v1/events/).
        query_type (SearchOutputQueryTypeEnum): * `text` - text
            * `photo` - photo
            * `hybrid` - hybrid
            * `similar` - similar
        results (list[Result]):
        total (int): Products that match the filters.
        limit (int):
        offset (int):
        facets (Facets):
        legs (list[str]):
        took_ms (float):
        stages (SearchOutputStages): Milliseconds per stage: decode (reading and checking the shopper's photo, for a
            photo query), understand (identifiers, typo correction and recognised words, for a query with words), encode
            (CLIP; the product-text and keyword legs run beside it in a second thread), vector_search (the image leg, then
            whatever the product legs still need, totals and facets), hydrate, rerank. They add up to took_ms.
        reranked (bool):
        rerank_model (None | str):
        rerank_reason (None | str):
        notices (list[str]):
        corrected (None | str): The query the results are for, when words the catalogue does not know were corrected
            (null otherwise); send `typo_tolerance: false` to search as typed.
        recognised (Recognised):
        rules (list[AppliedRule]): Merchandising rules that changed this search (synonyms, pins, boosts, buries, hides,
            the click model), applied after fusion and before re-ranking.
        experiment (ExperimentTag | None | Unset): The ranking experiment (A/B test) and variant this search ran under;
            null when none is running or the visitor sent no X-Visitor-Id (they get the control).
    """

    search_id: UUID
    query_type: SearchOutputQueryTypeEnum
    results: list[Result]
    total: int
    limit: int
    offset: int
    facets: Facets
    legs: list[str]
    took_ms: float
    stages: SearchOutputStages
    reranked: bool
    rerank_model: None | str
    rerank_reason: None | str
    notices: list[str]
    corrected: None | str
    recognised: Recognised
    rules: list[AppliedRule]
    experiment: ExperimentTag | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.experiment_tag import ExperimentTag  # noqa: PLC0415

        search_id = str(self.search_id)

        query_type = self.query_type.value

        results = []
        for results_item_data in self.results:
            results_item = results_item_data.to_dict()
            results.append(results_item)

        total = self.total

        limit = self.limit

        offset = self.offset

        facets = self.facets.to_dict()

        legs = self.legs

        took_ms = self.took_ms

        stages = self.stages.to_dict()

        reranked = self.reranked

        rerank_model: None | str
        rerank_model = self.rerank_model

        rerank_reason: None | str
        rerank_reason = self.rerank_reason

        notices = self.notices

        corrected: None | str
        corrected = self.corrected

        recognised = self.recognised.to_dict()

        rules = []
        for rules_item_data in self.rules:
            rules_item = rules_item_data.to_dict()
            rules.append(rules_item)

        experiment: dict[str, Any] | None | Unset
        if isinstance(self.experiment, Unset):
            experiment = UNSET
        elif isinstance(self.experiment, ExperimentTag):
            experiment = self.experiment.to_dict()
        else:
            experiment = self.experiment

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "search_id": search_id,
                "query_type": query_type,
                "results": results,
                "total": total,
                "limit": limit,
                "offset": offset,
                "facets": facets,
                "legs": legs,
                "took_ms": took_ms,
                "stages": stages,
                "reranked": reranked,
                "rerank_model": rerank_model,
                "rerank_reason": rerank_reason,
                "notices": notices,
                "corrected": corrected,
                "recognised": recognised,
                "rules": rules,
            }
        )
        if experiment is not UNSET:
            field_dict["experiment"] = experiment

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.applied_rule import AppliedRule  # noqa: PLC0415
        from ..models.experiment_tag import ExperimentTag  # noqa: PLC0415
        from ..models.facets import Facets  # noqa: PLC0415
        from ..models.recognised import Recognised  # noqa: PLC0415
        from ..models.result import Result  # noqa: PLC0415
        from ..models.search_output_stages import SearchOutputStages  # noqa: PLC0415

        d = dict(src_dict)
        search_id = UUID(d.pop("search_id"))

        query_type = SearchOutputQueryTypeEnum(d.pop("query_type"))

        results = []
        _results = d.pop("results")
        for results_item_data in _results:
            results_item = Result.from_dict(results_item_data)

            results.append(results_item)

        total = d.pop("total")

        limit = d.pop("limit")

        offset = d.pop("offset")

        facets = Facets.from_dict(d.pop("facets"))

        legs = cast(list[str], d.pop("legs"))

        took_ms = d.pop("took_ms")

        stages = SearchOutputStages.from_dict(d.pop("stages"))

        reranked = d.pop("reranked")

        def _parse_rerank_model(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        rerank_model = _parse_rerank_model(d.pop("rerank_model"))

        def _parse_rerank_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        rerank_reason = _parse_rerank_reason(d.pop("rerank_reason"))

        notices = cast(list[str], d.pop("notices"))

        def _parse_corrected(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        corrected = _parse_corrected(d.pop("corrected"))

        recognised = Recognised.from_dict(d.pop("recognised"))

        rules = []
        _rules = d.pop("rules")
        for rules_item_data in _rules:
            rules_item = AppliedRule.from_dict(rules_item_data)

            rules.append(rules_item)

        def _parse_experiment(data: object) -> ExperimentTag | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                experiment_type_1 = ExperimentTag.from_dict(data)

                return experiment_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ExperimentTag | None | Unset, data)

        experiment = _parse_experiment(d.pop("experiment", UNSET))

        search_output = cls(
            search_id=search_id,
            query_type=query_type,
            results=results,
            total=total,
            limit=limit,
            offset=offset,
            facets=facets,
            legs=legs,
            took_ms=took_ms,
            stages=stages,
            reranked=reranked,
            rerank_model=rerank_model,
            rerank_reason=rerank_reason,
            notices=notices,
            corrected=corrected,
            recognised=recognised,
            rules=rules,
            experiment=experiment,
        )

        search_output.additional_properties = d
        return search_output

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
