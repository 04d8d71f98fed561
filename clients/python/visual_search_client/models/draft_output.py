from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.draft_output_attributes import DraftOutputAttributes


T = TypeVar("T", bound="DraftOutput")


@_attrs_define
class DraftOutput:
    """
    Attributes:
        id (int): The kept draft, listed for review in the admin.
        title (str):
        description (str):
        attributes (DraftOutputAttributes):
        model (str): The model that wrote the draft.
    """

    id: int
    title: str
    description: str
    attributes: DraftOutputAttributes
    model: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        title = self.title

        description = self.description

        attributes = self.attributes.to_dict()

        model = self.model

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "title": title,
                "description": description,
                "attributes": attributes,
                "model": model,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.draft_output_attributes import DraftOutputAttributes  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        title = d.pop("title")

        description = d.pop("description")

        attributes = DraftOutputAttributes.from_dict(d.pop("attributes"))

        model = d.pop("model")

        draft_output = cls(
            id=id,
            title=title,
            description=description,
            attributes=attributes,
            model=model,
        )

        draft_output.additional_properties = d
        return draft_output

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
