"""The privacy endpoints of the API: data exports and anonymization requests. Exports asked
with the business's key need no approval; an anonymization is approved by a person on
/privacy/, never through the API."""

from django import forms
from django.core.exceptions import ValidationError
from django.http import FileResponse

from customers import normalize
from customers.api import schemas
from customers.api.auth import ApiError
from customers.api.endpoints import endpoint
from customers.api.forms import TextField
from customers.api.schemas import DATETIME, ID, STRING, binary, enum, nullable, obj
from customers.models import Customer
from privacy import services
from privacy.models import AnonymizationRequest, DataExport, Regulation

NOT_FOUND = {"id": ["No such customer."]}
EXPORT_STATUS = enum(DataExport.Status.values)


def customer_of(api_key, pk):
    customer = Customer.objects.filter(business_id=api_key.business_id, pk=pk).live().first()
    if customer is None:
        raise ApiError(404, NOT_FOUND)
    return customer


def export_of(api_key, pk):
    export = DataExport.objects.filter(business_id=api_key.business_id, pk=pk).first()
    if export is None:
        raise ApiError(404, {"id": ["No such export."]})
    return export


def text_field(payload, name):
    value = payload.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, {name: ["Enter a string."]})
    try:
        normalize.validate_text(value or "")
    except ValidationError as error:
        raise ApiError(400, {name: error.messages}) from None
    return value or ""


def export_json(export):
    return {
        "id": export.pk,
        "type": export.type,
        "status": export.status,
        "due_at": export.due_at.isoformat(),
        "completed_at": export.completed_at.isoformat() if export.completed_at else None,
        "expires_at": export.expires_at.isoformat() if export.expires_at else None,
    }


@endpoint(
    "POST",
    "privacy",
    summary="Export a customer's data (GDPR/CCPA access request)",
    description="Starts at once (the key's requests need no approval); follow it at GET exports/{id}.",
    body_schema=obj(
        {"type": enum(DataExport.Type.values), "reason": STRING},
        optional={
            "regulation": nullable(
                enum([*Regulation.values, ""], description="The law of the request; GDPR unless said")
            )
        },
    ),
    responses={202: obj({"id": ID, "status": EXPORT_STATUS, "due_at": DATETIME}), 400: None, 404: None},
)
def request_export(call, pk):
    customer = customer_of(call.api_key, pk)
    payload = call.payload
    try:
        export = services.request_data_export(
            customer=customer,
            type=payload["type"],
            reason=text_field(payload, "reason"),
            regulation=text_field(payload, "regulation") or Regulation.GDPR,
            actor=None,
        )
    except ValidationError as error:
        raise ApiError(400, error.message_dict) from None
    export.refresh_from_db(fields=["status"])
    return 202, {"id": export.pk, "status": export.status, "due_at": export.due_at.isoformat()}


@endpoint(
    "GET",
    "privacy",
    summary="A data export's progress",
    responses={
        200: obj(
            {
                "id": ID,
                "type": enum(DataExport.Type.values),
                "status": EXPORT_STATUS,
                "due_at": DATETIME,
                "completed_at": nullable(DATETIME),
                "expires_at": nullable(DATETIME),
            }
        ),
        404: None,
    },
)
def export(call, pk):
    return 200, export_json(export_of(call.api_key, pk))


@endpoint(
    "GET",
    "privacy",
    summary="Download a completed data export (a ZIP)",
    description="Each download is in the access log as the key's; 409 while the export has no file.",
    responses={200: binary("application/zip"), 404: None, 409: None},
)
def download(call, pk):
    export = export_of(call.api_key, pk)
    try:
        services.record_download(
            export=export, api_key=call.api_key, address=call.request.META.get("REMOTE_ADDR")
        )
    except ValidationError as error:
        raise ApiError(409, {"status": error.messages}) from None
    response = FileResponse(
        export.file.open("rb"), as_attachment=True, filename=f"data-export-{export.pk}.zip"
    )
    response["Content-Type"] = "application/zip"
    response["Cache-Control"] = "no-store"
    return response


class AnonymizationForm(forms.Form):
    reason = TextField(max_length=2000, help_text="Why, e.g. the person's request by email of 2026-11-02")


@endpoint(
    "DELETE",
    "privacy",
    summary="Ask for a customer's anonymization",
    description="202 with the request, which a compliance officer approves on /privacy/ (the same "
    "open request again for a customer who has one); 409 for a customer anonymized already.",
    body=AnonymizationForm,
    responses={
        202: schemas.obj(
            {"request_id": schemas.ID, "status": schemas.enum(AnonymizationRequest.Status.values)}
        ),
        400: None,
        404: None,
        409: None,
    },
)
def delete_customer(call, pk):
    customer = customer_of(call.api_key, pk)
    try:
        anonymization = services.request_anonymization(
            customer=customer, reason=call.data["reason"], actor=None
        )
    except ValidationError as error:
        raise ApiError(400 if hasattr(error, "error_dict") else 409, messages_of(error)) from None
    return 202, {"request_id": anonymization.pk, "status": anonymization.status}


def messages_of(error):
    return error.message_dict if hasattr(error, "error_dict") else {"customer": error.messages}
