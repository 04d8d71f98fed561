from enum import StrEnum


class WebhookEventEnum(StrEnum):
    IMAGE_FAILED = "image.failed"
    IMAGE_INDEXED = "image.indexed"
    PRODUCT_INDEXED = "product.indexed"

    def __str__(self) -> str:
        return str(self.value)
