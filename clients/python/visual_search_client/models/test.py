from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Test")


@_attrs_define
class Test:
    """
    Attributes:
        difference (float | None): Variant minus control.
        lift (float | None): Relative to the control.
        p_value (float | None):
        adjusted_p (float | None): Holm over the variants.
        significant (bool):
    """

    difference: float | None
    lift: float | None
    p_value: float | None
    adjusted_p: float | None
    significant: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        difference: float | None
        difference = self.difference

        lift: float | None
        lift = self.lift

        p_value: float | None
        p_value = self.p_value

        adjusted_p: float | None
        adjusted_p = self.adjusted_p

        significant = self.significant

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "difference": difference,
                "lift": lift,
                "p_value": p_value,
                "adjusted_p": adjusted_p,
                "significant": significant,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_difference(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        difference = _parse_difference(d.pop("difference"))

        def _parse_lift(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        lift = _parse_lift(d.pop("lift"))

        def _parse_p_value(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        p_value = _parse_p_value(d.pop("p_value"))

        def _parse_adjusted_p(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        adjusted_p = _parse_adjusted_p(d.pop("adjusted_p"))

        significant = d.pop("significant")

        test = cls(
            difference=difference,
            lift=lift,
            p_value=p_value,
            adjusted_p=adjusted_p,
            significant=significant,
        )

        test.additional_properties = d
        return test

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
