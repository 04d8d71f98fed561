from enum import StrEnum


class MetricEnum(StrEnum):
    ADD_TO_CART = "add_to_cart"
    CONVERSION = "conversion"
    CTR = "ctr"

    def __str__(self) -> str:
        return str(self.value)
