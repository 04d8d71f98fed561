from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.bulk_row_status_enum import BulkRowStatusEnum

if TYPE_CHECKING:
    from ..models.bulk_row_result_errors import BulkRowResultErrors


T = TypeVar("T", bound="BulkRowResult")


@_attrs_define
class BulkRowResult:
    """
    Attributes:
        line (int): Line of the file (CSV: the header is line 1).
        sku (None | str):
        status (BulkRowStatusEnum): * `created` - created
            * `updated` - updated
            * `unchanged` - unchanged
            * `failed` - failed
        id (int | None): The product's id.
        detail (str): Why the row failed; empty otherwise.
        errors (BulkRowResultErrors): The row's errors by field.
    """

    line: int
    sku: None | str
    status: BulkRowStatusEnum
    id: int | None
    detail: str
    errors: BulkRowResultErrors
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        line = self.line

        sku: None | str
        sku = self.sku

        status = self.status.value

        id: int | None
        id = self.id

        detail = self.detail

        errors = self.errors.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "line": line,
                "sku": sku,
                "status": status,
                "id": id,
                "detail": detail,
                "errors": errors,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.bulk_row_result_errors import BulkRowResultErrors  # noqa: PLC0415

        d = dict(src_dict)
        line = d.pop("line")

        def _parse_sku(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        sku = _parse_sku(d.pop("sku"))

        status = BulkRowStatusEnum(d.pop("status"))

        def _parse_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        id = _parse_id(d.pop("id"))

        detail = d.pop("detail")

        errors = BulkRowResultErrors.from_dict(d.pop("errors"))

        bulk_row_result = cls(
            line=line,
            sku=sku,
            status=status,
            id=id,
            detail=detail,
            errors=errors,
        )

        bulk_row_result.additional_properties = d
        return bulk_row_result

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
