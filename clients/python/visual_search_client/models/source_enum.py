from enum import StrEnum


class SourceEnum(StrEnum):
    DERIVED = "derived"
    MERCHANT = "merchant"
    NONE = "none"

    def __str__(self) -> str:
        return str(self.value)
