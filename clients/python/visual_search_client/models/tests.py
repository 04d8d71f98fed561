from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.test import Test


T = TypeVar("T", bound="Tests")


@_attrs_define
class Tests:
    """
    Attributes:
        ctr (Test | Unset):
        add_to_cart (Test | Unset):
        conversion (Test | Unset):
    """

    ctr: Test | Unset = UNSET
    add_to_cart: Test | Unset = UNSET
    conversion: Test | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ctr: dict[str, Any] | Unset = UNSET
        if not isinstance(self.ctr, Unset):
            ctr = self.ctr.to_dict()

        add_to_cart: dict[str, Any] | Unset = UNSET
        if not isinstance(self.add_to_cart, Unset):
            add_to_cart = self.add_to_cart.to_dict()

        conversion: dict[str, Any] | Unset = UNSET
        if not isinstance(self.conversion, Unset):
            conversion = self.conversion.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if ctr is not UNSET:
            field_dict["ctr"] = ctr
        if add_to_cart is not UNSET:
            field_dict["add_to_cart"] = add_to_cart
        if conversion is not UNSET:
            field_dict["conversion"] = conversion

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.test import Test  # noqa: PLC0415

        d = dict(src_dict)
        _ctr = d.pop("ctr", UNSET)
        ctr: Test | Unset
        if isinstance(_ctr, Unset):
            ctr = UNSET
        else:
            ctr = Test.from_dict(_ctr)

        _add_to_cart = d.pop("add_to_cart", UNSET)
        add_to_cart: Test | Unset
        if isinstance(_add_to_cart, Unset):
            add_to_cart = UNSET
        else:
            add_to_cart = Test.from_dict(_add_to_cart)

        _conversion = d.pop("conversion", UNSET)
        conversion: Test | Unset
        if isinstance(_conversion, Unset):
            conversion = UNSET
        else:
            conversion = Test.from_dict(_conversion)

        tests = cls(
            ctr=ctr,
            add_to_cart=add_to_cart,
            conversion=conversion,
        )

        tests.additional_properties = d
        return tests

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
