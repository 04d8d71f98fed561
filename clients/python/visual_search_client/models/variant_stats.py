from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.mean import Mean
    from ..models.metrics import Metrics
    from ..models.tests import Tests


T = TypeVar("T", bound="VariantStats")


@_attrs_define
class VariantStats:
    """
    Attributes:
        name (str):
        is_control (bool):
        searches (int):
        rates (Metrics):
        click_position (Mean):
        tests (Tests):
        mde (float | None): Minimum detectable effect on the deciding metric with the traffic so far (absolute, power
            0.8, alpha 0.05 shared among the variants).
    """

    name: str
    is_control: bool
    searches: int
    rates: Metrics
    click_position: Mean
    tests: Tests
    mde: float | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        is_control = self.is_control

        searches = self.searches

        rates = self.rates.to_dict()

        click_position = self.click_position.to_dict()

        tests = self.tests.to_dict()

        mde: float | None
        mde = self.mde

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "is_control": is_control,
                "searches": searches,
                "rates": rates,
                "click_position": click_position,
                "tests": tests,
                "mde": mde,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.mean import Mean  # noqa: PLC0415
        from ..models.metrics import Metrics  # noqa: PLC0415
        from ..models.tests import Tests  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        is_control = d.pop("is_control")

        searches = d.pop("searches")

        rates = Metrics.from_dict(d.pop("rates"))

        click_position = Mean.from_dict(d.pop("click_position"))

        tests = Tests.from_dict(d.pop("tests"))

        def _parse_mde(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        mde = _parse_mde(d.pop("mde"))

        variant_stats = cls(
            name=name,
            is_control=is_control,
            searches=searches,
            rates=rates,
            click_position=click_position,
            tests=tests,
            mde=mde,
        )

        variant_stats.additional_properties = d
        return variant_stats

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
