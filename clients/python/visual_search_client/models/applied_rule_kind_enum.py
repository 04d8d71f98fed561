from enum import StrEnum


class AppliedRuleKindEnum(StrEnum):
    BOOST = "boost"
    BURY = "bury"
    CLICK_MODEL = "click_model"
    HIDE = "hide"
    PIN = "pin"
    SYNONYM = "synonym"

    def __str__(self) -> str:
        return str(self.value)
