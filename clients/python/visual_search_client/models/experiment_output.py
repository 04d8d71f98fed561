from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.experiment_output_status_enum import ExperimentOutputStatusEnum
from ..models.metric_enum import MetricEnum
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.variant_output import VariantOutput


T = TypeVar("T", bound="ExperimentOutput")


@_attrs_define
class ExperimentOutput:
    """
    Attributes:
        id (int):
        name (str):
        description (str):
        status (ExperimentOutputStatusEnum): * `draft` - Draft
            * `running` - Running
            * `ended` - Ended
        metric (MetricEnum): * `ctr` - Click-through rate
            * `add_to_cart` - Add-to-cart rate
            * `conversion` - Conversion rate
        started_at (datetime.datetime | None):
        ended_at (datetime.datetime | None):
        variants (list[VariantOutput]): Control first.
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        winner (None | str | Unset):
    """

    id: int
    name: str
    description: str
    status: ExperimentOutputStatusEnum
    metric: MetricEnum
    started_at: datetime.datetime | None
    ended_at: datetime.datetime | None
    variants: list[VariantOutput]
    created_at: datetime.datetime
    updated_at: datetime.datetime
    winner: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        description = self.description

        status = self.status.value

        metric = self.metric.value

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        ended_at: None | str
        if isinstance(self.ended_at, datetime.datetime):
            ended_at = self.ended_at.isoformat()
        else:
            ended_at = self.ended_at

        variants = []
        for variants_item_data in self.variants:
            variants_item = variants_item_data.to_dict()
            variants.append(variants_item)

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        winner: None | str | Unset
        if isinstance(self.winner, Unset):
            winner = UNSET
        else:
            winner = self.winner

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "description": description,
                "status": status,
                "metric": metric,
                "started_at": started_at,
                "ended_at": ended_at,
                "variants": variants,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
        if winner is not UNSET:
            field_dict["winner"] = winner

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.variant_output import VariantOutput  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        description = d.pop("description")

        status = ExperimentOutputStatusEnum(d.pop("status"))

        metric = MetricEnum(d.pop("metric"))

        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))

        def _parse_ended_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                ended_at_type_0 = datetime.datetime.fromisoformat(data)

                return ended_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        ended_at = _parse_ended_at(d.pop("ended_at"))

        variants = []
        _variants = d.pop("variants")
        for variants_item_data in _variants:
            variants_item = VariantOutput.from_dict(variants_item_data)

            variants.append(variants_item)

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_winner(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        winner = _parse_winner(d.pop("winner", UNSET))

        experiment_output = cls(
            id=id,
            name=name,
            description=description,
            status=status,
            metric=metric,
            started_at=started_at,
            ended_at=ended_at,
            variants=variants,
            created_at=created_at,
            updated_at=updated_at,
            winner=winner,
        )

        experiment_output.additional_properties = d
        return experiment_output

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
