"""The API's description: the OpenAPI document and its browsable docs (Swagger UI, served
from static/)."""

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from customers.api import openapi
from customers.api.auth import json_response


@login_not_required
@require_GET
def openapi_json(request):
    response = json_response(200, openapi.document())
    response["Cache-Control"] = "public, max-age=300"
    return response


@login_not_required
@require_GET
def docs(request):
    return render(request, "api/docs.html")
