"""The schema says what every operation may answer besides its success, and which headers it takes."""

from typing import Any

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme

ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "description": "A refusal: `detail` says why; `errors` names the fields; `current` is a record's "
    "state after a conflict.",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
        "current": {"type": "object", "additionalProperties": True},
    },
    "required": ["detail"],
}
ANSWERS = {
    "400": "Invalid input: the fields' messages.",
    "401": "No valid token or session.",
    "403": "Not allowed (the service says why).",
    "404": "No such record among those you may see.",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "409": "Someone else changed the record meanwhile; `current` is its state now.",
    "412": "If-Match differs from the record's ETag.",
    "415": "Unsupported media type: send JSON.",
    "422": "The Idempotency-Key was used with another request.",
    "429": "Too many requests: wait for Retry-After seconds.",
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A retry with the same key gets the first answer and writes nothing.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]([ -~]*[!-~])?$"},
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag read with the record: the change is refused (412) when it changed since.",
    "schema": {"type": "string"},
}


def document_errors_and_headers(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: error answers, Idempotency-Key, If-Match and ETag."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            responses = operation.setdefault("responses", {})
            for code, description in ANSWERS.items():
                answer: dict[str, Any] = {
                    "description": description,
                    "content": {"application/json": {"schema": ERROR}},
                }
                if code == "429":
                    answer["headers"] = RETRY_AFTER
                responses.setdefault(code, answer)
            parameters = operation.setdefault("parameters", [])
            if method == "post":
                parameters.append(IDEMPOTENCY_KEY)
            if method in ("post", "patch", "put", "delete"):
                parameters.append(IF_MATCH)
    return result


class TokenScheme(KnoxTokenScheme):
    """The API token in the schema: `Authorization: Token <token>`."""

    target_class = "crm.api.authentication.TokenAuthentication"
    name = "apiToken"
