"""OpenAPI post-processing: every operation documents the errors the API can answer with."""

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {
            "type": "string",
            "description": "What went wrong, in words a person can act on.",
        },
        "errors": {
            "type": "object",
            "additionalProperties": True,
            "description": "Per-field messages (400 only).",
        },
    },
    "required": ["detail"],
}

ERRORS = {
    "400": "The request is invalid; `detail` names the field.",
    "401": "Authentication is needed or the token is wrong.",
    "403": "The account may not do this.",
    "404": "Not found (or not yours).",
    "405": "Method not allowed.",
    "406": "The requested response format is not available.",
    "413": "The request body is too large.",
    "415": "Unsupported media type.",
    "429": "Too many requests; try again shortly.",
    "503": "A service the request needs is not answering; try again shortly.",
}


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, description in ERRORS.items():
                operation["responses"].setdefault(
                    status,
                    {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                )
    return result
