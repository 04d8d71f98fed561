from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.event_input_kind_enum import EventInputKindEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="EventInputRequest")


@_attrs_define
class EventInputRequest:
    """
    Attributes:
        id (UUID): A UUID the client draws once per event and keeps on retries: an id already taken in is counted once.
        kind (EventInputKindEnum): * `click` - Click
            * `add_to_cart` - Add To Cart
            * `purchase` - Purchase
        product_id (int):
        search_id (None | Unset | UUID): The `search_id` of the search response the product was found in.
        position (int | None | Unset): 1-based place of the product in the results (required for a click).
        quantity (int | Unset):  Default: 1.
        price (float | None | str | Unset): Unit price paid (for a purchase).
        visitor_id (str | Unset): The client's random anonymous id (never a login, email or device id).
    """

    id: UUID
    kind: EventInputKindEnum
    product_id: int
    search_id: None | Unset | UUID = UNSET
    position: int | None | Unset = UNSET
    quantity: int | Unset = 1
    price: float | None | str | Unset = UNSET
    visitor_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        kind = self.kind.value

        product_id = self.product_id

        search_id: None | str | Unset
        if isinstance(self.search_id, Unset):
            search_id = UNSET
        elif isinstance(self.search_id, UUID):
            search_id = str(self.search_id)
        else:
            search_id = self.search_id

        position: int | None | Unset
        if isinstance(self.position, Unset):
            position = UNSET
        else:
            position = self.position

        quantity = self.quantity

        price: float | None | str | Unset
        if isinstance(self.price, Unset):
            price = UNSET
        else:
            price = self.price

        visitor_id: str | Unset
        if isinstance(self.visitor_id, Unset):
            visitor_id = UNSET
        else:
            visitor_id = self.visitor_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "kind": kind,
                "product_id": product_id,
            }
        )
        if search_id is not UNSET:
            field_dict["search_id"] = search_id
        if position is not UNSET:
            field_dict["position"] = position
        if quantity is not UNSET:
            field_dict["quantity"] = quantity
        if price is not UNSET:
            field_dict["price"] = price
        if visitor_id is not UNSET:
            field_dict["visitor_id"] = visitor_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        kind = EventInputKindEnum(d.pop("kind"))

        product_id = d.pop("product_id")

        def _parse_search_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                search_id_type_0 = UUID(data)

                return search_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        search_id = _parse_search_id(d.pop("search_id", UNSET))

        def _parse_position(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        position = _parse_position(d.pop("position", UNSET))

        quantity = d.pop("quantity", UNSET)

        def _parse_price(data: object) -> float | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | str | Unset, data)

        price = _parse_price(d.pop("price", UNSET))

        def _parse_visitor_id(data: object) -> str | Unset:
            if isinstance(data, Unset):
                return data
            return cast(str | Unset, data)

        visitor_id = _parse_visitor_id(d.pop("visitor_id", UNSET))

        event_input_request = cls(
            id=id,
            kind=kind,
            product_id=product_id,
            search_id=search_id,
            position=position,
            quantity=quantity,
            price=price,
            visitor_id=visitor_id,
        )

        event_input_request.additional_properties = d
        return event_input_request

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
