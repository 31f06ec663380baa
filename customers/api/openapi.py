"""The OpenAPI 3.1 document of /api/v1/, built from the endpoints' declarations
(customers/api/endpoints.py) found in the URL resolver: the same forms and schemas the
views check requests with, so the document cannot drift from them."""

import re
from functools import cache

from django.urls import URLPattern, URLResolver, get_resolver

from customers.api.schemas import ERRORS, ID, STRING
from customers.choices import ADMIN_SCOPE, API_SCOPES

API_PREFIX = "api/v1/"
ERROR_TEXTS = {
    400: "Bad input: messages by field",
    401: "No valid API key",
    403: "The key lacks the scope this endpoint needs",
    404: "No such object in this business",
    405: "Method not allowed on this path",
    409: "The request conflicts with the object's current state",
    413: "The request body is over {max_body_megabytes} MB",
    429: "Over the key's requests per minute; see Retry-After",
}
SUCCESS_TEXTS = {200: "OK", 201: "Created", 202: "Accepted: follow the job", 204: "Done, no content"}
# Every endpoint may answer these, whatever it declares.
COMMON_ERRORS = (401, 403, 404, 405, 429)
PATH_PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def api_endpoints():
    """(path, Endpoint) for every endpoint declared under /api/v1/, in URL order."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith(API_PREFIX):
                for declaration in getattr(pattern.callback, "endpoints", []):
                    found.append((route, declaration))

    walk(get_resolver().url_patterns, "")
    return found


def openapi_path(route):
    return "/" + PATH_PARAMETER.sub(lambda match: "{" + match["name"] + "}", route)


def path_parameters(route):
    return [
        {
            "name": match["name"],
            "in": "path",
            "required": True,
            "schema": ID if match["converter"] == "int" else STRING,
        }
        for match in PATH_PARAMETER.finditer(route)
    ]


def json_content(schema):
    return {"application/json": {"schema": schema}}


def response_content(schema):
    """JSON, or the file a schemas.binary() schema stands for."""
    return {schema.get("contentMediaType", "application/json"): {"schema": schema}}


def operation(route, declaration):
    error_texts = {
        status: text.format(max_body_megabytes=declaration.max_body_bytes // (1024 * 1024))
        for status, text in ERROR_TEXTS.items()
    }
    responses = {}
    for status, schema in sorted(declaration.responses.items()):
        if status in error_texts:
            responses[str(status)] = {"description": error_texts[status], "content": json_content(ERRORS)}
        elif schema is None:
            responses[str(status)] = {"description": SUCCESS_TEXTS.get(status, "OK")}
        else:
            responses[str(status)] = {
                "description": SUCCESS_TEXTS.get(status, "OK"),
                "content": response_content(schema),
            }
    for status in COMMON_ERRORS:
        responses.setdefault(
            str(status), {"description": error_texts[status], "content": json_content(ERRORS)}
        )
    if declaration.request_schema() is not None:
        for status in (400, 413):
            responses.setdefault(
                str(status), {"description": error_texts[status], "content": json_content(ERRORS)}
            )
    responses["429"]["headers"] = {
        "Retry-After": {"description": "Seconds until the key may call again", "schema": {"type": "integer"}}
    }
    parameters = path_parameters(route) + [
        {"name": name, "in": "query", "required": bool(required), "schema": schema, "description": text}
        for name, (schema, text, *required) in declaration.query.items()
    ]
    scope_text = f"Scope: `{declaration.scope}` (or `{ADMIN_SCOPE}`)."
    result = {
        "operationId": f"{declaration.method.lower()}_{operation_name(route)}",
        "summary": declaration.summary,
        "description": " ".join(part for part in (declaration.description, scope_text) if part),
        "tags": [route.removeprefix(API_PREFIX).split("/")[0]],
        "security": [{"apiKey": [declaration.scope]}],
        "responses": responses,
    }
    if parameters:
        result["parameters"] = parameters
    if declaration.request_schema() is not None:
        result["requestBody"] = {"required": True, "content": json_content(declaration.request_schema())}
    return result


def operation_name(route):
    words = re.sub(r"<(?:\w+:)?(\w+)>", r"by_\1", route.removeprefix(API_PREFIX))
    return re.sub(r"\W+", "_", words).strip("_")


@cache
def document():
    paths = {}
    for route, declaration in api_endpoints():
        path = paths.setdefault(openapi_path(route), {})
        path[declaration.method.lower()] = operation(route, declaration)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Customer back office API",
            "version": "1",
            "description": (
                "Every call sends the business's API key as `Authorization: Bearer <key>`. Errors are "
                '`{"errors": {field: [messages]}}`. Money is a string with two decimals, times are ISO '
                'time with offset, and lists are `{"results": [...], "next": cursor-or-null}`: pass '
                "`next` back as `cursor` for the following page."
            ),
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Scopes: "
                    + "; ".join(f"`{scope}`: {text}" for scope, text in API_SCOPES.items()),
                }
            }
        },
        "paths": paths,
    }
