"""What every API v1 endpoint does around its work (customers/api/endpoints.py): scopes, the
rate limit, the errors' shape, and the OpenAPI document built from the same declarations."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate

from customers import services
from customers.api import openapi
from customers.models import ApiKey, AuditEntry, Order

ORDER = {"external_id": "A-1", "phone": "+1 415 555 0101", "amount": "10.00"}
# Paths under /api/v1/ that describe the API rather than being part of it.
DESCRIPTION_PATHS = {"api/v1/openapi.json", "api/v1/docs"}


def key_with(business, *scopes):
    return services.create_api_key(business=business, name="Scoped", scopes=scopes, actor=None)[1]


def call(client, method, path, secret, body=None):
    return getattr(client, method.lower())(
        path,
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


@pytest.mark.django_db
def test_a_call_outside_the_keys_scopes_is_403_naming_the_missing_scope(client, business):
    reader = key_with(business, "customers:read")

    response = call(client, "POST", "/api/v1/orders", reader, ORDER)

    assert response.status_code == 403
    assert response.json() == {"errors": {"scope": ["This API key lacks the scope “orders:write”."]}}
    assert not Order.objects.filter(business=business).exists()


@pytest.mark.django_db
def test_the_scope_an_endpoint_needs_or_admin_lets_the_call_through(client, business):
    writer, admin = key_with(business, "orders:write"), key_with(business, "admin")
    assert call(client, "POST", "/api/v1/orders", writer, ORDER).status_code == 201
    assert call(client, "POST", "/api/v1/orders", admin, {**ORDER, "external_id": "A-2"}).status_code == 201
    assert Order.objects.filter(business=business).count() == 2


@pytest.mark.django_db
def test_keys_are_stored_hashed_with_their_scopes_and_the_change_is_audited(business):
    api_key, secret = services.create_api_key(
        business=business, name="Shop", scopes=["orders:write", "customers:read"], actor=None
    )

    api_key.refresh_from_db()
    assert api_key.scopes == ["customers:read", "orders:write"]
    assert secret not in api_key.hashed_secret
    services.change_api_key_scopes(api_key=api_key, scopes=["segments"], actor=None)
    entries = AuditEntry.objects.filter(business=business).order_by("pk")
    actions = list(entries.values_list("action", flat=True))
    assert actions == ["api_key.created", "api_key.scopes_changed"]


@pytest.mark.django_db
@pytest.mark.parametrize("scopes", [[], ["customers:everything"]])
def test_a_key_needs_known_scopes(business, scopes):
    with pytest.raises(ValidationError) as refused:
        services.create_api_key(business=business, name="Bad", scopes=scopes, actor=None)

    assert "scopes" in refused.value.message_dict
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_the_command_makes_a_key_of_the_scopes_asked_for(business, capsys):
    call_command("create_api_key", business.slug, "--scope", "customers:read", "--scope", "segments")

    secret = capsys.readouterr().out.strip().splitlines()[-1]
    assert services.authenticate_api_key(secret).scopes == ["customers:read", "segments"]


@pytest.mark.django_db
def test_past_the_business_rate_the_key_gets_429_with_retry_after_and_other_keys_do_not(client, business):
    business.api_requests_per_minute = 3
    business.save()
    busy, quiet = key_with(business, "admin"), key_with(business, "admin")

    statuses = [call(client, "GET", "/api/v1/jobs/1", busy).status_code for _ in range(4)]
    refused = call(client, "GET", "/api/v1/jobs/1", busy)

    assert statuses == [404, 404, 404, 429]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert list(refused.json()["errors"]) == ["rate_limit"]
    assert call(client, "GET", "/api/v1/jobs/1", quiet).status_code == 404


@pytest.mark.django_db
def test_a_method_an_endpoint_does_not_take_is_a_json_405_with_allow(client, business):
    response = call(client, "DELETE", "/api/v1/orders", key_with(business, "admin"))

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {"errors": {"method": ["Use POST."]}}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/v1/orders/99999999999999999999"])
def test_no_such_path_or_object_is_a_json_404(client, business, path):
    response = call(client, "GET", path, key_with(business, "admin"))

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert list(response.json()["errors"])


@pytest.mark.django_db
def test_another_businesss_object_is_404(client, business, other_business):
    order = services.record_order(
        business=other_business, actor=None, external_id="G-1", phone="+44 20 7946 0000", amount="5.00"
    ).order

    response = call(client, "GET", f"/api/v1/orders/{order.pk}", key_with(business, "admin"))

    assert response.status_code == 404


@pytest.mark.django_db
def test_a_body_the_schema_forbids_is_refused_even_when_the_form_would_take_it(client, business):
    # The form reads a missing address as none; the schema says an address is an object.
    response = call(client, "POST", "/api/v1/orders", key_with(business, "admin"), {**ORDER, "items": {}})

    assert response.status_code == 400
    assert "items" in response.json()["errors"]
    assert not Order.objects.filter(business=business).exists()


def declared_api_patterns():
    """(route, callback) of every URL under /api/v1/, walking the resolver."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                found.append((route, pattern.callback))

    walk(get_resolver().url_patterns, "")
    return found


def test_every_url_under_api_v1_is_declared_and_in_the_openapi_document():
    document = openapi.document()
    undeclared, missing = [], []
    for route, callback in declared_api_patterns():
        if route in DESCRIPTION_PATHS:
            continue
        declarations = getattr(callback, "endpoints", None)
        if not declarations:
            undeclared.append(route)
            continue
        operations = document["paths"].get(openapi.openapi_path(route), {})
        missing += [f"{d.method} {route}" for d in declarations if d.method.lower() not in operations]

    assert undeclared == []
    assert missing == []


def test_the_openapi_document_is_valid_openapi_3_1_with_auth_and_errors_on_every_operation():
    document = openapi.document()

    validate(document)
    assert document["openapi"] == "3.1.0"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["security"], f"{method} {path}"
            assert {"401", "403", "404", "429"} <= set(operation["responses"]), f"{method} {path}"
            if "requestBody" in operation:
                assert {"400", "413"} <= set(operation["responses"]), f"{method} {path}"


@pytest.mark.django_db
def test_the_document_and_its_browsable_docs_are_served_without_a_key_or_a_cdn(client):
    document = client.get("/api/v1/openapi.json")
    docs = client.get("/api/v1/docs")

    assert document.status_code == 200 and document.json()["paths"]
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "https://" not in page and "http://" not in page


@pytest.mark.django_db
def test_an_address_with_every_field_at_its_longest_is_recorded(client, business):
    longest = {"street": "9" * 200, "street2": "8" * 200, "city": "c" * 100, "state": "s" * 100}
    address = {**longest, "postal_code": "1" * 20, "country": "US"}
    admin = key_with(business, "admin")

    response = call(client, "POST", "/api/v1/orders", admin, {**ORDER, "address": address})

    assert response.status_code == 201
    order = Order.objects.select_related("dropoff").get(pk=response.json()["order_id"])
    assert order.dropoff.street2 == "8" * 200
