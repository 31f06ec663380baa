"""Settings › Webhooks, for owners: endpoints, their delivery log, redelivery and test events."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from customers import queries, services, webhook_events
from customers.forms import WebhookEndpointForm
from customers.models import WebhookDelivery, WebhookEndpoint
from customers.tenancy import scoped
from customers.views.permissions import require_perm

VERIFY_SNIPPET = """import hashlib, hmac, time

def verify(secret, headers, raw_body, tolerance=300):
    timestamp = headers["X-Timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False  # an old request replayed
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("sha256=" + expected, headers["X-Signature"])"""


def form_errors_from(form, error):
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


def endpoint_list(request):
    require_perm(request, "customers.view_webhookendpoint")
    form = WebhookEndpointForm(request.POST or None, initial={"secret": services.new_secret()})
    if request.method == "POST":
        require_perm(request, "customers.add_webhookendpoint")
        if form.is_valid():
            fields = form.endpoint_fields()
            fields["secret"] = fields["secret"] or services.new_secret()
            try:
                endpoint = services.create_endpoint(business=request.business, actor=request.user, **fields)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, "Endpoint added.")
                return redirect("webhook", pk=endpoint.pk)
    context = {
        "endpoints": queries.webhook_endpoints(request.business),
        "form": form,
        "snippet": VERIFY_SNIPPET,
        "event_types": sorted(webhook_events.EVENT_TYPES.values(), key=lambda event: event.name),
    }
    return render(request, "customers/webhooks.html", context)


def endpoint_detail(request, pk):
    require_perm(request, "customers.view_webhookendpoint")
    endpoint = get_object_or_404(scoped(request, WebhookEndpoint), pk=pk)
    if request.method == "POST":
        require_perm(request, "customers.change_webhookendpoint")
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            try:
                services.update_endpoint(endpoint=endpoint, actor=request.user, **form.endpoint_fields())
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, "Endpoint saved.")
                return redirect("webhook", pk=endpoint.pk)
    else:
        everything = WebhookEndpoint.ALL_EVENTS in endpoint.events
        form = WebhookEndpointForm(
            initial={
                "url": endpoint.url,
                "all_events": everything,
                "events": [] if everything else endpoint.events,
                "active": endpoint.active,
                "description": endpoint.description,
            }
        )
    deliveries = queries.page_of(
        queries.webhook_deliveries(endpoint), request.GET.get("page"), queries.DELIVERIES_PER_PAGE
    )
    context = {"endpoint": endpoint, "form": form, "page_obj": deliveries, "snippet": VERIFY_SNIPPET}
    return render(request, "customers/webhook.html", context)


@require_POST
def endpoint_delete(request, pk):
    require_perm(request, "customers.delete_webhookendpoint")
    endpoint = get_object_or_404(scoped(request, WebhookEndpoint), pk=pk)
    services.delete_endpoint(endpoint=endpoint, actor=request.user)
    messages.success(request, f"Endpoint {endpoint.url} deleted.")
    return redirect("webhooks")


@require_POST
def endpoint_test(request, pk):
    require_perm(request, "customers.change_webhookendpoint")
    endpoint = get_object_or_404(scoped(request, WebhookEndpoint), pk=pk)
    try:
        services.send_test_event(endpoint=endpoint, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Test event queued: its delivery appears below.")
    return redirect("webhook", pk=endpoint.pk)


def delivery_detail(request, pk, delivery_pk):
    require_perm(request, "customers.view_webhookendpoint")
    delivery = get_object_or_404(
        scoped(request, WebhookDelivery).select_related("event", "endpoint"), endpoint_id=pk, pk=delivery_pk
    )
    context = {"delivery": delivery, "endpoint": delivery.endpoint, "attempts": list(delivery.log.all())}
    return render(request, "customers/webhook_delivery.html", context)


@require_POST
def delivery_redeliver(request, pk, delivery_pk):
    require_perm(request, "customers.change_webhookendpoint")
    delivery = get_object_or_404(
        scoped(request, WebhookDelivery).select_related("endpoint"), endpoint_id=pk, pk=delivery_pk
    )
    services.redeliver(delivery=delivery, actor=request.user)
    messages.success(request, "Sent again: the new delivery is at the top of the log.")
    return redirect("webhook", pk=pk)
