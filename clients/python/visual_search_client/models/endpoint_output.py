from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="EndpointOutput")


@_attrs_define
class EndpointOutput:
    """
    Attributes:
        id (int):
        merchant (str):
        url (str):
        created_at (datetime.datetime):
        events (Any | Unset):
        description (str | Unset):
        is_active (bool | Unset):
    """

    id: int
    merchant: str
    url: str
    created_at: datetime.datetime
    events: Any | Unset = UNSET
    description: str | Unset = UNSET
    is_active: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        merchant = self.merchant

        url = self.url

        created_at = self.created_at.isoformat()

        events = self.events

        description = self.description

        is_active = self.is_active

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "merchant": merchant,
                "url": url,
                "created_at": created_at,
            }
        )
        if events is not UNSET:
            field_dict["events"] = events
        if description is not UNSET:
            field_dict["description"] = description
        if is_active is not UNSET:
            field_dict["is_active"] = is_active

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        merchant = d.pop("merchant")

        url = d.pop("url")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        events = d.pop("events", UNSET)

        description = d.pop("description", UNSET)

        is_active = d.pop("is_active", UNSET)

        endpoint_output = cls(
            id=id,
            merchant=merchant,
            url=url,
            created_at=created_at,
            events=events,
            description=description,
            is_active=is_active,
        )

        endpoint_output.additional_properties = d
        return endpoint_output

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
