"""JSON request bodies with limits: MAX_JSON_BODY_BYTES bytes and JSON_MAX_DEPTH levels.

Python's json module recurses once per nesting level: 5,000 levels of ``[[[...]]]`` raise
RecursionError (a 500), and a structure just under the interpreter's limit would then make
every serializer that walks it recurse as deep. Depth is checked after parsing, without
recursion, and the body is read no further than its limit.
"""

import json
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import APIException, ParseError


class RequestBodyTooLarge(APIException):
    status_code = 413
    default_code = "request_too_large"


def too_large(limit: int) -> RequestBodyTooLarge:
    return RequestBodyTooLarge(f"The request body is larger than the {limit:,} byte limit.")


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def json_depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def loads_limited(text: str | bytes) -> Any:
    """json.loads with the depth limit; raises ParseError (a 400) for anything refused."""
    limit = settings.JSON_MAX_DEPTH
    deeper = ParseError(f"JSON nested deeper than {limit} levels.")
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise deeper from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ParseError(f"JSON parse error - {exc}") from None
    if json_depth_exceeds(data, limit):
        raise deeper
    return data


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.MAX_JSON_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise too_large(limit)
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(f"JSON parse error - the body is not {encoding}.") from None
        return loads_limited(text)
