from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.metric_enum import MetricEnum
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.variant_input_request import VariantInputRequest


T = TypeVar("T", bound="ExperimentInputRequest")


@_attrs_define
class ExperimentInputRequest:
    """Unknown fields are refused by name rather than ignored.

    Attributes:
        name (str):
        variants (list[VariantInputRequest]): The first is the control; shares add up to 100.
        description (str | Unset):
        metric (MetricEnum | Unset): * `ctr` - Click-through rate
            * `add_to_cart` - Add-to-cart rate
            * `conversion` - Conversion rate
    """

    name: str
    variants: list[VariantInputRequest]
    description: str | Unset = UNSET
    metric: MetricEnum | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        variants = []
        for variants_item_data in self.variants:
            variants_item = variants_item_data.to_dict()
            variants.append(variants_item)

        description = self.description

        metric: str | Unset = UNSET
        if not isinstance(self.metric, Unset):
            metric = self.metric.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "variants": variants,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if metric is not UNSET:
            field_dict["metric"] = metric

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.variant_input_request import VariantInputRequest  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        variants = []
        _variants = d.pop("variants")
        for variants_item_data in _variants:
            variants_item = VariantInputRequest.from_dict(variants_item_data)

            variants.append(variants_item)

        description = d.pop("description", UNSET)

        _metric = d.pop("metric", UNSET)
        metric: MetricEnum | Unset
        if isinstance(_metric, Unset):
            metric = UNSET
        else:
            metric = MetricEnum(_metric)

        experiment_input_request = cls(
            name=name,
            variants=variants,
            description=description,
            metric=metric,
        )

        experiment_input_request.additional_properties = d
        return experiment_input_request

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
