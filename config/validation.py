"""Text that may be stored or searched: no control characters.

DRF's CharField already refuses NUL; the other C0 and C1 control characters (U+0004,
U+000F, ...) are invisible, break exports and terminals, and are refused too. Tab, line feed
and carriage return are text.
"""

import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MESSAGE = "Control characters (U+0000 to U+001F other than tab and line breaks, U+007F to U+009F) are not allowed."


def has_control_characters(value: str) -> bool:
    return bool(_CONTROL.search(value))


def refuse_control_characters(value: str) -> None:
    """A validator for Django forms and DRF fields alike."""
    if isinstance(value, str) and has_control_characters(value):
        raise DjangoValidationError(MESSAGE, code="control_characters")


class PlainTextField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(refuse_control_characters)

    def to_internal_value(self, data: Any) -> str:
        # DRF checks max_length after trimming whitespace; the schema's maxLength speaks of the
        # value as sent, so a value that is too long only because of its padding is refused too.
        if self.max_length is not None and isinstance(data, str) and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


def control_character_path(value: Any, path: str = "") -> str | None:
    """Where inside a JSON value (a key or a string) a control character is; None if nowhere."""
    if isinstance(value, str):
        return path if has_control_characters(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if has_control_characters(str(key)):
                return where
            found = control_character_path(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = control_character_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def refuse_control_characters_within(value: Any) -> None:
    """A DRF field validator for JSON values; the error names where the character is."""
    found = control_character_path(value)
    if found is not None:
        raise serializers.ValidationError(f"{found}: {MESSAGE}" if found else MESSAGE)
