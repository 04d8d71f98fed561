from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.image_fetch_status_enum import ImageFetchStatusEnum
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.image_output import ImageOutput


T = TypeVar("T", bound="ImageFetchOutput")


@_attrs_define
class ImageFetchOutput:
    """
    Attributes:
        id (int):
        url (str):
        image (ImageOutput | None):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        position (int | None | Unset):
        status (ImageFetchStatusEnum | Unset): * `pending` - Pending
            * `done` - Done
            * `failed` - Failed
        failure_reason (str | Unset):
        attempts (int | Unset):
    """

    id: int
    url: str
    image: ImageOutput | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    position: int | None | Unset = UNSET
    status: ImageFetchStatusEnum | Unset = UNSET
    failure_reason: str | Unset = UNSET
    attempts: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.image_output import ImageOutput  # noqa: PLC0415

        id = self.id

        url = self.url

        image: dict[str, Any] | None
        if isinstance(self.image, ImageOutput):
            image = self.image.to_dict()
        else:
            image = self.image

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        position: int | None | Unset
        if isinstance(self.position, Unset):
            position = UNSET
        else:
            position = self.position

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        failure_reason = self.failure_reason

        attempts = self.attempts

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "url": url,
                "image": image,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
        if position is not UNSET:
            field_dict["position"] = position
        if status is not UNSET:
            field_dict["status"] = status
        if failure_reason is not UNSET:
            field_dict["failure_reason"] = failure_reason
        if attempts is not UNSET:
            field_dict["attempts"] = attempts

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.image_output import ImageOutput  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        url = d.pop("url")

        def _parse_image(data: object) -> ImageOutput | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                image_type_1 = ImageOutput.from_dict(data)

                return image_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ImageOutput | None, data)

        image = _parse_image(d.pop("image"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_position(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        position = _parse_position(d.pop("position", UNSET))

        _status = d.pop("status", UNSET)
        status: ImageFetchStatusEnum | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = ImageFetchStatusEnum(_status)

        failure_reason = d.pop("failure_reason", UNSET)

        attempts = d.pop("attempts", UNSET)

        image_fetch_output = cls(
            id=id,
            url=url,
            image=image,
            created_at=created_at,
            updated_at=updated_at,
            position=position,
            status=status,
            failure_reason=failure_reason,
            attempts=attempts,
        )

        image_fetch_output.additional_properties = d
        return image_fetch_output

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
