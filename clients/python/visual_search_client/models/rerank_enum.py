from enum import StrEnum


class RerankEnum(StrEnum):
    OFF = "off"
    ON = "on"
    REQUEST = "request"

    def __str__(self) -> str:
        return str(self.value)
