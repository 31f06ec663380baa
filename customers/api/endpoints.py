"""Declaring an API endpoint, once, for both the view and the OpenAPI document.

    @endpoint("POST", "orders:write", summary="Record an order", body=OrderForm,
              responses={201: ORDER_RECORDED, 200: ORDER_RECORDED})
    def orders(call):
        ...
        return 201, {...}

The decorator does what every endpoint does around its work, in this order: the method (405),
the key (401), its scope (403 naming the missing one), the key's rate limit (429 with
Retry-After), the JSON body (413, 400) checked first by the form and then by the JSON Schema
the OpenAPI document publishes for it, so that nothing the document forbids is ever
accepted. The view gets an ApiCall and answers `(status, data)` or a response of its own.

Several endpoints on one path are joined with `route(get_view, put_view, ...)`; the
document (customers/api/openapi.py) reads the declarations from the URL resolver.
"""

import re
from dataclasses import dataclass, field
from functools import wraps

import jsonschema_rs
from django import forms
from django.contrib.auth.decorators import login_not_required
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import get_usage

from customers.api import schemas
from customers.api.auth import (
    MAX_BODY_BYTES,
    ApiError,
    authenticate,
    json_response,
    messages_by_field,
    read_json_object,
)
from customers.choices import ADMIN_SCOPE, API_SCOPES

# A query parameter the view refuses to do without.
REQUIRED = True
INTEGER_TEXT = re.compile(r"-?[0-9]{1,20}")
# URL ids past a bigint are no object of ours: a 404, not a database error.
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Endpoint:
    method: str
    scope: str
    summary: str
    responses: dict
    body: type[forms.Form] | None = None
    body_schema: dict | None = None
    query: dict = field(default_factory=dict)
    description: str = ""
    max_body_bytes: int = MAX_BODY_BYTES

    def request_schema(self):
        if self.body_schema is not None:
            return self.body_schema
        return schemas.form_schema(self.body) if self.body else None


@dataclass
class ApiCall:
    request: object
    api_key: object
    payload: dict | None = None
    form: forms.Form | None = None

    @property
    def business(self):
        return self.api_key.business

    @property
    def data(self):
        return self.form.cleaned_data


def endpoint(
    method,
    scope,
    *,
    summary,
    responses,
    body=None,
    body_schema=None,
    query=None,
    description="",
    max_body_bytes=MAX_BODY_BYTES,
):
    """`body` is a form that checks the JSON object (its schema is derived from the form);
    `body_schema` a JSON Schema for bodies checked in the view; `query` maps query
    parameter names to (schema of the string, description), or (schema, description,
    REQUIRED); a body over `max_body_bytes` is a 413."""
    if scope not in API_SCOPES:
        raise ValueError(f"Unknown scope {scope}")
    declaration = Endpoint(
        method=method,
        scope=scope,
        summary=summary,
        responses=responses,
        body=body,
        body_schema=body_schema,
        query=query or {},
        description=description,
        max_body_bytes=max_body_bytes,
    )
    query_validator = None
    if declaration.query:
        query_validator = jsonschema_rs.Draft202012Validator(
            {
                "type": "object",
                "properties": {name: schema for name, (schema, *_) in declaration.query.items()},
                "required": [name for name, (_, _, *required) in declaration.query.items() if required],
            }
        )
    validator = None
    if declaration.request_schema() is not None:
        validator = jsonschema_rs.Draft202012Validator(declaration.request_schema())

    def decorate(view):
        @csrf_exempt
        @login_not_required
        @wraps(view)
        def handle(request, **kwargs):
            if request.method != method:
                return method_not_allowed([method])
            try:
                if any(isinstance(value, int) and value > MAX_ID for value in kwargs.values()):
                    raise ApiError(404, {"id": ["No such object in this business."]})
                call = ApiCall(request=request, api_key=authenticate(request))
                require_scope(call.api_key, scope)
                limited = rate_limited(request, call.api_key)
                if limited:
                    return limited
                if query_validator is not None:
                    check_schema(query_validator, query_values(request, declaration.query))
                if validator is not None:
                    call.payload = read_json_object(request, max_body_bytes)
                    if body is not None:
                        call.form = body(call.payload)
                        if not call.form.is_valid():
                            raise ApiError(400, messages_by_field(call.form.errors))
                    check_schema(validator, call.payload)
                answer = view(call, **kwargs)
            except ApiError as error:
                return error.response()
            if isinstance(answer, HttpResponseBase):
                return answer
            status, data = answer
            return json_response(status, data)

        handle.endpoints = [declaration]
        return handle

    return decorate


def route(*views):
    """One path, several methods: each request goes to the endpoint declared for its method."""
    by_method = {view.endpoints[0].method: view for view in views}

    @csrf_exempt
    @login_not_required
    def handle(request, **kwargs):
        view = by_method.get(request.method)
        if view is None:
            return method_not_allowed(list(by_method))
        return view(request, **kwargs)

    handle.endpoints = [view.endpoints[0] for view in views]
    return handle


def method_not_allowed(methods):
    response = ApiError(405, {"method": [f"Use {' or '.join(methods)}."]}).response()
    response["Allow"] = ", ".join(methods)
    return response


def require_scope(api_key, scope):
    granted = api_key.scopes
    if scope not in granted and ADMIN_SCOPE not in granted:
        raise ApiError(403, {"scope": [f"This API key lacks the scope “{scope}”."]})


def rate_limited(request, api_key):
    """The 429 for a key past its business's requests per minute, or None. The counter lives in
    the "ratelimit" cache, shared by every web node when that cache is Redis."""
    limit = api_key.business.api_requests_per_minute
    usage = get_usage(
        request, group="api", key=lambda group, request: str(api_key.pk), rate=f"{limit}/m", increment=True
    )
    if not usage["should_limit"]:
        return None
    retry_after = max(1, usage["time_left"])
    response = ApiError(
        429, {"rate_limit": [f"Over {limit} requests a minute for this key; retry in {retry_after} s."]}
    ).response()
    response["Retry-After"] = str(retry_after)
    return response


# The `next` of a page (an id) as the following page's `cursor`.
CURSOR = {"cursor": ({"type": "string", "pattern": r"^[0-9]{1,18}$"}, "The `next` of the previous page")}


def page_cursor(request):
    """The `cursor` (checked against CURSOR before the view) as an id, or None on the first page."""
    cursor = request.GET.get("cursor")
    return None if cursor is None else int(cursor)


def query_values(request, declared):
    """The declared query parameters given, as their schemas type them: a parameter declared
    an integer is one when it is written as one (else it stays text, and the schema refuses it)."""
    values = {}
    for name, (schema, *_) in declared.items():
        if name not in request.GET:
            continue
        value = request.GET[name]
        if schema.get("type") == "integer" and INTEGER_TEXT.fullmatch(value):
            value = int(value)
        values[name] = value
    return values


def check_schema(validator, payload):
    errors = schema_errors(validator, payload)
    if errors:
        raise ApiError(400, errors)


def schema_errors(validator, payload):
    errors = {}
    for error in validator.iter_errors(payload):
        for name, message in schemas.refusals(error):
            errors.setdefault(name, []).append(message)
    return errors


def json_404(request, exception=None):
    """The 404 of paths under /api/ (another business's object, or no such path) in the API's shape."""
    return json_response(404, {"errors": {"path": [f"No endpoint or object at {request.path}."]}})
