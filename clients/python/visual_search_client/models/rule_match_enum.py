from enum import StrEnum


class RuleMatchEnum(StrEnum):
    ANY = "any"
    EXACT = "exact"
    WORDS = "words"

    def __str__(self) -> str:
        return str(self.value)
