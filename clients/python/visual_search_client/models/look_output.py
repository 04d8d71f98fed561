from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.look_output_query_type_enum import LookOutputQueryTypeEnum

if TYPE_CHECKING:
    from ..models.facets import Facets
    from ..models.look_group import LookGroup
    from ..models.look_output_stages import LookOutputStages


T = TypeVar("T", bound="LookOutput")


@_attrs_define
class LookOutput:
    """
    Attributes:
        search_id (UUID): This search's id: send it with the click, add_to_cart and purchase events that follow (POST
            /api/v1/events/).
        query_type (LookOutputQueryTypeEnum): * `look` - look
        groups (list[LookGroup]): One per detected item, best detection first: its box and results.
        model (str): The detector model that found the items.
        limit (int): Results per group.
        took_ms (float):
        stages (LookOutputStages): Milliseconds: decode, detect, then search (all the groups' searches).
        notices (list[str]):
        facets (Facets):
    """

    search_id: UUID
    query_type: LookOutputQueryTypeEnum
    groups: list[LookGroup]
    model: str
    limit: int
    took_ms: float
    stages: LookOutputStages
    notices: list[str]
    facets: Facets
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        search_id = str(self.search_id)

        query_type = self.query_type.value

        groups = []
        for groups_item_data in self.groups:
            groups_item = groups_item_data.to_dict()
            groups.append(groups_item)

        model = self.model

        limit = self.limit

        took_ms = self.took_ms

        stages = self.stages.to_dict()

        notices = self.notices

        facets = self.facets.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "search_id": search_id,
                "query_type": query_type,
                "groups": groups,
                "model": model,
                "limit": limit,
                "took_ms": took_ms,
                "stages": stages,
                "notices": notices,
                "facets": facets,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.facets import Facets  # noqa: PLC0415
        from ..models.look_group import LookGroup  # noqa: PLC0415
        from ..models.look_output_stages import LookOutputStages  # noqa: PLC0415

        d = dict(src_dict)
        search_id = UUID(d.pop("search_id"))

        query_type = LookOutputQueryTypeEnum(d.pop("query_type"))

        groups = []
        _groups = d.pop("groups")
        for groups_item_data in _groups:
            groups_item = LookGroup.from_dict(groups_item_data)

            groups.append(groups_item)

        model = d.pop("model")

        limit = d.pop("limit")

        took_ms = d.pop("took_ms")

        stages = LookOutputStages.from_dict(d.pop("stages"))

        notices = cast(list[str], d.pop("notices"))

        facets = Facets.from_dict(d.pop("facets"))

        look_output = cls(
            search_id=search_id,
            query_type=query_type,
            groups=groups,
            model=model,
            limit=limit,
            took_ms=took_ms,
            stages=stages,
            notices=notices,
            facets=facets,
        )

        look_output.additional_properties = d
        return look_output

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
