from enum import StrEnum


class ResultMatchEnum(StrEnum):
    IDENTIFIER = "identifier"

    def __str__(self) -> str:
        return str(self.value)
