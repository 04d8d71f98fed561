from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.image_status_enum import ImageStatusEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="MerchantImageOutput")


@_attrs_define
class MerchantImageOutput:
    """
    Attributes:
        id (int):
        url (str):
        thumbnail_url (str):
        width (int):
        height (int):
        content_type (str):
        sha256 (str):
        created_at (datetime.datetime):
        product_id (int):
        sku (str):
        updated_at (datetime.datetime):
        position (int | Unset):
        status (ImageStatusEnum | Unset): * `pending` - Pending
            * `indexed` - Indexed
            * `failed` - Failed
        failure_reason (str | Unset):
        model_revision (str | Unset):
        indexed_at (datetime.datetime | None | Unset):
        colors (Any | Unset): Colours derived from the pixels: name, share, hex.
        duplicate_of (int | None | Unset): An older image of the merchant this one nearly duplicates.
        duplicate_dismissed (bool | Unset): The merchant reviewed the flag: not a duplicate.
    """

    id: int
    url: str
    thumbnail_url: str
    width: int
    height: int
    content_type: str
    sha256: str
    created_at: datetime.datetime
    product_id: int
    sku: str
    updated_at: datetime.datetime
    position: int | Unset = UNSET
    status: ImageStatusEnum | Unset = UNSET
    failure_reason: str | Unset = UNSET
    model_revision: str | Unset = UNSET
    indexed_at: datetime.datetime | None | Unset = UNSET
    colors: Any | Unset = UNSET
    duplicate_of: int | None | Unset = UNSET
    duplicate_dismissed: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        url = self.url

        thumbnail_url = self.thumbnail_url

        width = self.width

        height = self.height

        content_type = self.content_type

        sha256 = self.sha256

        created_at = self.created_at.isoformat()

        product_id = self.product_id

        sku = self.sku

        updated_at = self.updated_at.isoformat()

        position = self.position

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        failure_reason = self.failure_reason

        model_revision = self.model_revision

        indexed_at: None | str | Unset
        if isinstance(self.indexed_at, Unset):
            indexed_at = UNSET
        elif isinstance(self.indexed_at, datetime.datetime):
            indexed_at = self.indexed_at.isoformat()
        else:
            indexed_at = self.indexed_at

        colors = self.colors

        duplicate_of: int | None | Unset
        if isinstance(self.duplicate_of, Unset):
            duplicate_of = UNSET
        else:
            duplicate_of = self.duplicate_of

        duplicate_dismissed = self.duplicate_dismissed

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "url": url,
                "thumbnail_url": thumbnail_url,
                "width": width,
                "height": height,
                "content_type": content_type,
                "sha256": sha256,
                "created_at": created_at,
                "product_id": product_id,
                "sku": sku,
                "updated_at": updated_at,
            }
        )
        if position is not UNSET:
            field_dict["position"] = position
        if status is not UNSET:
            field_dict["status"] = status
        if failure_reason is not UNSET:
            field_dict["failure_reason"] = failure_reason
        if model_revision is not UNSET:
            field_dict["model_revision"] = model_revision
        if indexed_at is not UNSET:
            field_dict["indexed_at"] = indexed_at
        if colors is not UNSET:
            field_dict["colors"] = colors
        if duplicate_of is not UNSET:
            field_dict["duplicate_of"] = duplicate_of
        if duplicate_dismissed is not UNSET:
            field_dict["duplicate_dismissed"] = duplicate_dismissed

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        url = d.pop("url")

        thumbnail_url = d.pop("thumbnail_url")

        width = d.pop("width")

        height = d.pop("height")

        content_type = d.pop("content_type")

        sha256 = d.pop("sha256")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        product_id = d.pop("product_id")

        sku = d.pop("sku")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        position = d.pop("position", UNSET)

        _status = d.pop("status", UNSET)
        status: ImageStatusEnum | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = ImageStatusEnum(_status)

        failure_reason = d.pop("failure_reason", UNSET)

        model_revision = d.pop("model_revision", UNSET)

        def _parse_indexed_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                indexed_at_type_0 = datetime.datetime.fromisoformat(data)

                return indexed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        indexed_at = _parse_indexed_at(d.pop("indexed_at", UNSET))

        colors = d.pop("colors", UNSET)

        def _parse_duplicate_of(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        duplicate_of = _parse_duplicate_of(d.pop("duplicate_of", UNSET))

        duplicate_dismissed = d.pop("duplicate_dismissed", UNSET)

        merchant_image_output = cls(
            id=id,
            url=url,
            thumbnail_url=thumbnail_url,
            width=width,
            height=height,
            content_type=content_type,
            sha256=sha256,
            created_at=created_at,
            product_id=product_id,
            sku=sku,
            updated_at=updated_at,
            position=position,
            status=status,
            failure_reason=failure_reason,
            model_revision=model_revision,
            indexed_at=indexed_at,
            colors=colors,
            duplicate_of=duplicate_of,
            duplicate_dismissed=duplicate_dismissed,
        )

        merchant_image_output.additional_properties = d
        return merchant_image_output

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
