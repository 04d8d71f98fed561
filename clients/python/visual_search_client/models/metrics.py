from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.rate import Rate


T = TypeVar("T", bound="Metrics")


@_attrs_define
class Metrics:
    """
    Attributes:
        ctr (Rate):
        add_to_cart (Rate):
        conversion (Rate):
    """

    ctr: Rate
    add_to_cart: Rate
    conversion: Rate
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ctr = self.ctr.to_dict()

        add_to_cart = self.add_to_cart.to_dict()

        conversion = self.conversion.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "ctr": ctr,
                "add_to_cart": add_to_cart,
                "conversion": conversion,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.rate import Rate  # noqa: PLC0415

        d = dict(src_dict)
        ctr = Rate.from_dict(d.pop("ctr"))

        add_to_cart = Rate.from_dict(d.pop("add_to_cart"))

        conversion = Rate.from_dict(d.pop("conversion"))

        metrics = cls(
            ctr=ctr,
            add_to_cart=add_to_cart,
            conversion=conversion,
        )

        metrics.additional_properties = d
        return metrics

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
