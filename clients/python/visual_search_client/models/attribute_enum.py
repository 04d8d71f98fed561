from enum import StrEnum


class AttributeEnum(StrEnum):
    BRAND = "brand"
    CATEGORY = "category"
    IN_STOCK = "in_stock"
    MERCHANT = "merchant"
    PRICE = "price"
    TAG = "tag"

    def __str__(self) -> str:
        return str(self.value)
