from enum import StrEnum


class ExperimentOutputStatusEnum(StrEnum):
    DRAFT = "draft"
    ENDED = "ended"
    RUNNING = "running"

    def __str__(self) -> str:
        return str(self.value)
