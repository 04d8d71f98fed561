from enum import StrEnum


class EventInputKindEnum(StrEnum):
    ADD_TO_CART = "add_to_cart"
    CLICK = "click"
    PURCHASE = "purchase"

    def __str__(self) -> str:
        return str(self.value)
