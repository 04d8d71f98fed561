from enum import StrEnum


class SearchOutputQueryTypeEnum(StrEnum):
    HYBRID = "hybrid"
    PHOTO = "photo"
    SIMILAR = "similar"
    TEXT = "text"

    def __str__(self) -> str:
        return str(self.value)
