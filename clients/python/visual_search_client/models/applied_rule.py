from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.applied_rule_kind_enum import AppliedRuleKindEnum

T = TypeVar("T", bound="AppliedRule")


@_attrs_define
class AppliedRule:
    """
    Attributes:
        id (str):
        kind (AppliedRuleKindEnum): * `synonym` - synonym
            * `pin` - pin
            * `boost` - boost
            * `bury` - bury
            * `hide` - hide
            * `click_model` - click_model
        name (str):
    """

    id: str
    kind: AppliedRuleKindEnum
    name: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        kind = self.kind.value

        name = self.name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "kind": kind,
                "name": name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        kind = AppliedRuleKindEnum(d.pop("kind"))

        name = d.pop("name")

        applied_rule = cls(
            id=id,
            kind=kind,
            name=name,
        )

        applied_rule.additional_properties = d
        return applied_rule

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
