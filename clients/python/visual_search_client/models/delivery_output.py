from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_delivery_status_enum import WebhookDeliveryStatusEnum
from ..models.webhook_event_enum import WebhookEventEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="DeliveryOutput")


@_attrs_define
class DeliveryOutput:
    """
    Attributes:
        id (int):
        event (WebhookEventEnum): * `image.indexed` - An image became searchable
            * `image.failed` - An image could not be indexed
            * `product.indexed` - A product's search document was written
        payload (Any):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        status (WebhookDeliveryStatusEnum | Unset): * `pending` - Pending
            * `delivered` - Delivered
            * `failed` - Failed
        attempts (int | Unset):
        response_status (int | None | Unset):
        last_error (str | Unset):
        delivered_at (datetime.datetime | None | Unset):
    """

    id: int
    event: WebhookEventEnum
    payload: Any
    created_at: datetime.datetime
    updated_at: datetime.datetime
    status: WebhookDeliveryStatusEnum | Unset = UNSET
    attempts: int | Unset = UNSET
    response_status: int | None | Unset = UNSET
    last_error: str | Unset = UNSET
    delivered_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        event = self.event.value

        payload = self.payload

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        attempts = self.attempts

        response_status: int | None | Unset
        if isinstance(self.response_status, Unset):
            response_status = UNSET
        else:
            response_status = self.response_status

        last_error = self.last_error

        delivered_at: None | str | Unset
        if isinstance(self.delivered_at, Unset):
            delivered_at = UNSET
        elif isinstance(self.delivered_at, datetime.datetime):
            delivered_at = self.delivered_at.isoformat()
        else:
            delivered_at = self.delivered_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "event": event,
                "payload": payload,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
        if status is not UNSET:
            field_dict["status"] = status
        if attempts is not UNSET:
            field_dict["attempts"] = attempts
        if response_status is not UNSET:
            field_dict["response_status"] = response_status
        if last_error is not UNSET:
            field_dict["last_error"] = last_error
        if delivered_at is not UNSET:
            field_dict["delivered_at"] = delivered_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        event = WebhookEventEnum(d.pop("event"))

        payload = d.pop("payload")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        _status = d.pop("status", UNSET)
        status: WebhookDeliveryStatusEnum | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = WebhookDeliveryStatusEnum(_status)

        attempts = d.pop("attempts", UNSET)

        def _parse_response_status(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        response_status = _parse_response_status(d.pop("response_status", UNSET))

        last_error = d.pop("last_error", UNSET)

        def _parse_delivered_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                delivered_at_type_0 = datetime.datetime.fromisoformat(data)

                return delivered_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        delivered_at = _parse_delivered_at(d.pop("delivered_at", UNSET))

        delivery_output = cls(
            id=id,
            event=event,
            payload=payload,
            created_at=created_at,
            updated_at=updated_at,
            status=status,
            attempts=attempts,
            response_status=response_status,
            last_error=last_error,
            delivered_at=delivered_at,
        )

        delivery_output.additional_properties = d
        return delivery_output

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
