from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.experiment_output import ExperimentOutput
    from ..models.variant_stats import VariantStats
    from ..models.verdict import Verdict


T = TypeVar("T", bound="Results")


@_attrs_define
class Results:
    """
    Attributes:
        experiment (ExperimentOutput):
        alpha (float | None):
        power (float | None):
        variants (list[VariantStats]):
        verdict (None | Verdict): Null for a draft.
    """

    experiment: ExperimentOutput
    alpha: float | None
    power: float | None
    variants: list[VariantStats]
    verdict: None | Verdict
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.verdict import Verdict  # noqa: PLC0415

        experiment = self.experiment.to_dict()

        alpha: float | None
        alpha = self.alpha

        power: float | None
        power = self.power

        variants = []
        for variants_item_data in self.variants:
            variants_item = variants_item_data.to_dict()
            variants.append(variants_item)

        verdict: dict[str, Any] | None
        if isinstance(self.verdict, Verdict):
            verdict = self.verdict.to_dict()
        else:
            verdict = self.verdict

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "experiment": experiment,
                "alpha": alpha,
                "power": power,
                "variants": variants,
                "verdict": verdict,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.experiment_output import ExperimentOutput  # noqa: PLC0415
        from ..models.variant_stats import VariantStats  # noqa: PLC0415
        from ..models.verdict import Verdict  # noqa: PLC0415

        d = dict(src_dict)
        experiment = ExperimentOutput.from_dict(d.pop("experiment"))

        def _parse_alpha(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        alpha = _parse_alpha(d.pop("alpha"))

        def _parse_power(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        power = _parse_power(d.pop("power"))

        variants = []
        _variants = d.pop("variants")
        for variants_item_data in _variants:
            variants_item = VariantStats.from_dict(variants_item_data)

            variants.append(variants_item)

        def _parse_verdict(data: object) -> None | Verdict:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                verdict_type_1 = Verdict.from_dict(data)

                return verdict_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Verdict, data)

        verdict = _parse_verdict(d.pop("verdict"))

        results = cls(
            experiment=experiment,
            alpha=alpha,
            power=power,
            variants=variants,
            verdict=verdict,
        )

        results.additional_properties = d
        return results

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
