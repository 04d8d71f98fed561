from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_event_enum import WebhookEventEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="EndpointInputRequest")


@_attrs_define
class EndpointInputRequest:
    """
    Attributes:
        url (str): https URL on a public address.
        merchant (str | Unset): Merchant slug; needed only when the caller belongs to several merchants.
        events (list[WebhookEventEnum] | Unset): Events to send; empty or absent: all of them.
        description (str | Unset):  Default: ''.
    """

    url: str
    merchant: str | Unset = UNSET
    events: list[WebhookEventEnum] | Unset = UNSET
    description: str | Unset = ""
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        url = self.url

        merchant = self.merchant

        events: list[str] | Unset = UNSET
        if not isinstance(self.events, Unset):
            events = []
            for events_item_data in self.events:
                events_item = events_item_data.value
                events.append(events_item)

        description = self.description

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "url": url,
            }
        )
        if merchant is not UNSET:
            field_dict["merchant"] = merchant
        if events is not UNSET:
            field_dict["events"] = events
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        url = d.pop("url")

        merchant = d.pop("merchant", UNSET)

        _events = d.pop("events", UNSET)
        events: list[WebhookEventEnum] | Unset = UNSET
        if _events is not UNSET:
            events = []
            for events_item_data in _events:
                events_item = WebhookEventEnum(events_item_data)

                events.append(events_item)

        description = d.pop("description", UNSET)

        endpoint_input_request = cls(
            url=url,
            merchant=merchant,
            events=events,
            description=description,
        )

        endpoint_input_request.additional_properties = d
        return endpoint_input_request

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
