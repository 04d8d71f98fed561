from enum import StrEnum


class LookOutputQueryTypeEnum(StrEnum):
    LOOK = "look"

    def __str__(self) -> str:
        return str(self.value)
