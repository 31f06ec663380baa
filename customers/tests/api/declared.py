"""Holding an API answer to what the OpenAPI document declares for it."""

import jsonschema_rs
from django.urls import resolve

from customers.api.openapi import document, openapi_path


def assert_declared(response):
    """The answer's status is declared for its operation, and its JSON body (a ZIP's content
    type) is what the document says."""
    route = resolve(response.request["PATH_INFO"]).route
    operation = document()["paths"][openapi_path(route)][response.request["REQUEST_METHOD"].lower()]
    declared = operation["responses"].get(str(response.status_code))
    assert declared is not None, f"{response.status_code} is not declared for {route}"
    if "content" not in declared:
        assert not response.content
        return
    [(media_type, content)] = declared["content"].items()
    assert response["Content-Type"] == media_type
    if media_type == "application/json":
        jsonschema_rs.validate(content["schema"], response.json())
