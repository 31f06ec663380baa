"""Every URL of the project, requested by a member of another business with the first
business's object ids, answers 404/403 or a page without the first business's data.

A URL pattern with no case here makes the test fail: add one when you add a URL."""

import re

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver

from customers.models import Business, Membership

MARKER = "Zanzibarquokka"
# Searches use a fragment, so a page echoing the search box does not look like a leak.
FRAGMENT = MARKER[:-3]

# Patterns that show nothing of any business: (name or route) -> reason.
NOT_TENANT_DATA = {
    "healthz": "health check",
    "favicon": "static file",
    "api:openapi": "the API's description, the same for everyone",
    "api:docs": "the API's browsable docs, the same for everyone",
    "login": "login page",
    "logout": "logout",
    "password_change": "own password",
    "password_change_done": "own password",
    "password_reset": "password reset form",
    "password_reset_done": "static page",
    "password_reset_confirm": "token page",
    "password_reset_complete": "static page",
    "admin:login": "login page",
    "admin:logout": "logout",
    "admin:password_change": "own password",
    "admin:password_change_done": "own password",
    "admin:jsi18n": "translations",
}

ADMIN_MODEL_VIEWS = ["changelist", "add", "change", "delete", "history"]


def walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (
                f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else pattern.namespace
            )
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner or namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name or prefix + str(pattern.pattern), prefix + str(pattern.pattern)


def fill(route, **values):
    """Turn a route (path converters or regex groups) into a concrete path."""
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), route)
    return "/" + route.lstrip("^").rstrip("$")


@pytest.fixture
def alpha(db, make_member):
    """The first business, whose data must never reach the other business."""
    business = Business.objects.create(name=f"{MARKER} Foods", slug="alpha", default_country="US")
    owner = make_member(business, Membership.Role.OWNER, username=f"{MARKER.lower()}-owner")
    from customers import services
    from customers.models import (
        Activity,
        ApiKey,
        AuditEntry,
        BlacklistEntry,
        Customer,
        CustomerAccount,
        Dropoff,
        DuplicateCandidate,
        MergeRecord,
        Note,
        Order,
        OrderItem,
        Payment,
        Refund,
        Tag,
        WebhookDelivery,
        WebhookEndpoint,
    )

    order = services.record_order(
        business=business,
        external_id=f"{MARKER}-1",
        phone="+14155550101",
        amount="12.50",
        first_name=MARKER,
        email=f"{MARKER.lower()}@example.com",
        address={"street": f"1 {MARKER} St", "city": MARKER, "country": "US"},
        items=[{"sku": "P1", "name": f"{MARKER} pizza", "quantity": 1, "price": "12.50"}],
        payments=[{"transaction_id": f"{MARKER}-tx", "amount": "12.50", "method": "card"}],
    ).order
    customer = order.customer
    refund = services.refund_payment(
        payment=order.payments.get(), amount="2.50", reason=f"{MARKER} refund", actor=owner, source="profile"
    ).refund
    services.link_account(
        business=business, phone=customer.phone, provider="shop", email=f"{MARKER}@shop.example"
    )
    endpoint = services.create_endpoint(
        business=business,
        url=f"https://{MARKER.lower()}.example.com/hook",
        events=["*"],
        secret=f"{MARKER}-secret",
        actor=owner,
    )
    delivery = services.send_test_event(endpoint=endpoint, actor=owner)
    services.add_note(customer=customer, body=f"{MARKER} note", actor=owner)
    services.tag_customer(customer=customer, name=MARKER, actor=owner)
    services.blacklist_customer(customer=customer, reason="fraud", note=f"{MARKER} fraud", actor=owner)
    twin, _ = services.get_or_create_customer(business=business, phone="+14155550102", first_name=MARKER)
    merge = services.merge_customers(survivor=customer, merged=[twin], reason=f"{MARKER} twin", actor=owner)
    lookalike, _ = services.get_or_create_customer(business=business, phone="+14155550103", first_name=MARKER)
    candidate = DuplicateCandidate.objects.create(
        business=business, customer_a=customer, customer_b=lookalike, reasons=["same_email"], score=90
    )
    from loyalty import services as loyalty_services
    from loyalty.models import TierChange, TierConfigAudit, TierRecalculation
    from loyalty.tiers import thresholds

    loyalty_services.override_tiers(
        business=business,
        customers=Customer.objects.filter(pk=customer.pk),
        tier="GOLD",
        reason=MARKER,
        actor=owner,
    )
    loyalty_services.configure_tiers(
        business=business,
        thresholds=thresholds(silver={"spend": "1.00"}),
        grace_days=9,
        reason=MARKER,
        actor=owner,
    )
    from privacy import services as privacy_services
    from privacy.models import CommunicationPreference, ConsentEvent

    privacy_services.update_preferences(
        customer=customer,
        changes={"sms_marketing": True},
        source="staff",
        evidence=f"{MARKER} yes",
        actor=owner,
    )
    from loyalty.models import PointsEntry, PointsRule

    loyalty_services.configure_points_rule(
        business=business, points_per_unit=2, expiry_months=None, actor=owner
    )
    points = loyalty_services.change_points(
        customer=customer, kind="adjust", points=5, reason=MARKER, actor=owner
    )
    from privacy.models import AccessLog, AnonymizationRequest, DataExport

    export = privacy_services.request_data_export(
        customer=customer, type="GDPR_FULL", reason=MARKER, actor=None
    )
    privacy_services.run_data_export(export.job.pk)
    export.refresh_from_db()
    from customers.models import BulkActionJob
    from segments import services as segment_services
    from segments.models import Segment, SegmentRecalculation

    segment, _ = segment_services.create_segment(
        business=business,
        actor=owner,
        name=f"{MARKER} spenders",
        rules={"operator": "AND", "rules": [{"field": "tier", "operator": "in", "value": ["GOLD"]}]},
    )
    segment_services.run_recalculation(SegmentRecalculation.objects.get(segment=segment).pk)
    panel, _ = segment_services.create_segment(
        business=business, actor=owner, name=f"{MARKER} panel", kind="static"
    )
    segment_services.add_to_segment(
        segment=panel, customers=Customer.objects.filter(pk=customer.pk), actor=owner
    )
    bulk_job = BulkActionJob.objects.create(
        business=business,
        actor=owner,
        action="add_tag",
        params={"name": MARKER},
        customer_ids=[customer.pk],
        result={"changed": 1, "skipped": {MARKER: 1}},
    )
    objects = {
        PointsRule: PointsRule.objects.get(business=business),
        PointsEntry: points,
        ConsentEvent: ConsentEvent.objects.get(business=business),
        CommunicationPreference: CommunicationPreference.objects.get(business=business),
        AccessLog: privacy_services.record_access(
            business=business, actor=owner, customer_ids=[customer.pk], what="list_viewed", query=MARKER
        ),
        DataExport: export,
        AnonymizationRequest: privacy_services.request_anonymization(
            customer=customer, reason=MARKER, actor=None
        ),
        Segment: segment,
        SegmentRecalculation: SegmentRecalculation.objects.get(segment=segment),
        BulkActionJob: bulk_job,
        TierChange: TierChange.objects.get(business=business),
        TierConfigAudit: TierConfigAudit.objects.get(business=business),
        TierRecalculation: TierRecalculation.objects.get(business=business),
        Business: business,
        Membership: owner.memberships.get(),
        Customer: customer,
        Order: order,
        OrderItem: order.items.get(),
        Payment: refund.payment,
        Refund: refund,
        Dropoff: order.dropoff,
        CustomerAccount: customer.accounts.get(),
        Note: customer.notes.get(),
        Tag: customer.tags.get(),
        BlacklistEntry: customer.blacklist_entries.get(),
        Activity: customer.activities.get(kind=Activity.Kind.BLACKLISTED),
        ApiKey: services.create_api_key(business=business, name=MARKER, actor=owner)[0],
        AuditEntry: AuditEntry.objects.get(business=business, action="api_key.created"),
        MergeRecord: merge,
        DuplicateCandidate: candidate,
        WebhookEndpoint: endpoint,
        WebhookDelivery: delivery,
    }
    return {"business": business, "owner": owner, "objects": objects}


def app_cases(alpha):
    """Cases for the app's own URLs: name -> list of (method, path, data)."""
    business = alpha["business"]
    from customers.models import Customer, DuplicateCandidate, MergeRecord, Payment, Tag

    tag = alpha["objects"][Tag]
    payment = alpha["objects"][Payment]
    profile = f"/customers/{alpha['objects'][Customer].pk}/"
    candidate = alpha["objects"][DuplicateCandidate]
    merge = f"/customers/merge/?ids={candidate.customer_a_id},{candidate.customer_b_id}"
    record = alpha["objects"][MergeRecord]
    return {
        "dashboard": [("get", "/", None), ("get", "/?start=2024-01-01&end=2026-12-31", None)],
        "dashboard_csv": [("get", "/dashboard.csv", None), ("get", "/dashboard.csv?start=2024-01-01", None)],
        "dashboard_api": [("get", "/api/v1/dashboard", None)],
        "switch_business": [("post", "/switch-business/", {"business": business.pk, "next": "/"})],
        "business_settings": [
            ("get", "/settings/", None),
            (
                "post",
                "/settings/",
                {"name": "Renamed", "default_country": "GB", "currency": "GBP", "timezone": "Europe/London"},
            ),
        ],
        "customers:list": [
            ("get", f"/customers/?q={FRAGMENT}", None),
            ("get", f"/customers/?city={FRAGMENT}&tag={tag.pk}", None),
            # The merged twin is a deleted customer of the first business.
            ("get", "/customers/?deleted=1", None),
            ("get", "/customers/?deleted=1&page=last", None),
        ],
        "customers:detail": [("get", profile, None)],
        "customers:edit": [
            ("get", f"{profile}edit/", None),
            ("post", f"{profile}edit/", {"phone": "+14155550199", "first_name": "X", "status": "active"}),
        ],
        "customers:blacklist": [("post", f"{profile}blacklist/", {"reason": "fraud"})],
        "customers:unblacklist": [("post", f"{profile}unblacklist/", {"reason": "other"})],
        "customers:add_note": [("post", f"{profile}notes/", {"body": "leak?"})],
        "customers:add_tag": [("post", f"{profile}tags/", {"name": "leak?"})],
        "customers:remove_tag": [("post", f"{profile}tags/{tag.pk}/remove/", {"confirm": "yes"})],
        "customers:refund": [
            ("post", f"{profile}payments/{payment.pk}/refund/", {"amount": "1.00", "reason": "leak?"})
        ],
        "customers:verify_phone": [("post", f"{profile}verify-phone/", {"confirm": "yes"})],
        "customers:delete": [("post", f"{profile}delete/", {"confirm": "yes"})],
        "customers:restore": [("post", f"{profile}restore/", {"confirm": "yes"})],
        **import_export_cases(alpha),
        "customers:duplicates": [("get", "/customers/duplicates/", None)],
        "customers:scan_duplicates": [("post", "/customers/duplicates/scan/", {"confirm": "yes"})],
        "customers:dismiss_duplicate": [
            ("post", f"/customers/duplicates/{candidate.pk}/dismiss/", {"confirm": "yes"}),
        ],
        "customers:merge": [
            ("get", merge, None),
            ("post", merge, {"survivor": candidate.customer_a_id, "reason": "leak?"}),
        ],
        "customers:merge_record": [("get", f"/customers/merges/{record.pk}/", None)],
        "customers:undo_merge": [("post", f"/customers/merges/{record.pk}/undo/", {"confirm": "yes"})],
        **segment_cases(alpha),
        **bulk_cases(alpha),
        **loyalty_cases(alpha),
        "loyalty:clv": [("get", "/loyalty/clv/", None)],
        "privacy:index": [("get", "/privacy/", None)],
        **privacy_cases(alpha),
        **preference_cases(alpha),
        # A staff session is no API key: the API answers 401 and records nothing.
        "api:orders": [
            ("post", "/api/v1/orders", {"external_id": "A-1", "phone": "+14155550101", "amount": "1"}),
        ],
        "api:orders_batch": [
            (
                "post",
                "/api/v1/orders/batch",
                {"orders": [{"external_id": "A-1", "phone": "+14155550101", "amount": "1"}]},
            ),
        ],
        "api:merge": [
            ("post", "/api/v1/customers/merge", {"survivor_id": 1, "merged_ids": [2], "reason": "x"}),
        ],
        "api:order": [("get", f"/api/v1/orders/{payment.order_id}", None)],
        "api:order_payments": [
            (
                "post",
                f"/api/v1/orders/{payment.order_id}/payments",
                {"transaction_id": "leak?", "amount": "1", "method": "card"},
            ),
        ],
        "api:payment_refunds": [("post", f"/api/v1/payments/{payment.pk}/refunds", {"amount": "1.00"})],
        **customer_api_cases(alpha),
        **webhook_cases(alpha),
    }


def customer_api_cases(alpha):
    """A staff session is no API key: 401, and nothing of the first business changed."""
    from customers.models import Customer, Dropoff

    api = f"/api/v1/customers/{alpha['objects'][Customer].pk}"
    address = {"street": "1 Leak St"}
    return {
        "api:customers": [
            ("get", "/api/v1/customers?q=Zanzibar", None),
            ("post", "/api/v1/customers", address),
        ],
        "api_customer": [
            ("get", api, None),
            ("put", api, {"first_name": "leak?"}),
            ("delete", api, {"reason": "leak?"}),
        ],
        "api:customer_orders": [("get", f"{api}/orders", None)],
        "api:addresses": [("get", f"{api}/addresses", None), ("post", f"{api}/addresses", address)],
        "api:address": [
            ("put", f"{api}/addresses/{alpha['objects'][Dropoff].pk}", address),
            ("delete", f"{api}/addresses/{alpha['objects'][Dropoff].pk}", None),
        ],
    }


def webhook_cases(alpha):
    from customers.models import WebhookDelivery, WebhookEndpoint

    endpoint = alpha["objects"][WebhookEndpoint]
    delivery = alpha["objects"][WebhookDelivery]
    page = f"/settings/webhooks/{endpoint.pk}/"
    api = f"/api/v1/webhooks/{endpoint.pk}"
    return {
        "webhooks": [("get", "/settings/webhooks/", None)],
        "webhook": [
            ("get", page, None),
            ("post", page, {"url": "https://leak.example.com/", "events": ["*"], "secret": "x"}),
        ],
        "webhook_delete": [("post", f"{page}delete/", {"confirm": "yes"})],
        "webhook_test": [("post", f"{page}test/", {"confirm": "yes"})],
        "webhook_delivery": [("get", f"{page}deliveries/{delivery.pk}/", None)],
        "webhook_redeliver": [("post", f"{page}deliveries/{delivery.pk}/redeliver/", {"confirm": "yes"})],
        "api:webhooks": [("get", "/api/v1/webhooks", None)],
        "api:webhook": [("get", api, None), ("delete", api, None)],
        "api:webhook_test": [("post", f"{api}/test", {"confirm": "yes"})],
        "api:webhook_deliveries": [("get", f"{api}/deliveries", None)],
    }


def privacy_cases(alpha):
    """The first business's customers, exports and anonymization requests, from the other one."""
    from django.core import signing

    from customers.models import Customer
    from privacy.models import AnonymizationRequest, DataExport

    customer = alpha["objects"][Customer].pk
    export = alpha["objects"][DataExport].pk
    anonymization = alpha["objects"][AnonymizationRequest].pk
    request = {"type": "GDPR_FULL", "regulation": "GDPR", "reason": "leak?"}
    token = signing.dumps({"export": export, "user": alpha["owner"].pk}, salt="privacy.export-download")
    return {
        "privacy:index": [("get", "/privacy/", None)],
        "privacy:access_log": [("get", f"/privacy/access-log/?customer={customer}", None)],
        "privacy:retention_rule": [("post", "/privacy/retention/", {"inactive_years": "1"})],
        "privacy:request_export": [("post", f"/privacy/customers/{customer}/export/", request)],
        "privacy:request_anonymization": [("post", f"/privacy/customers/{customer}/anonymize/", request)],
        "privacy:approve_export": [("post", f"/privacy/exports/{export}/approve/", {"confirm": "yes"})],
        "privacy:export_download": [("get", f"/privacy/exports/{export}/download/", None)],
        "privacy:export_file": [("get", f"/privacy/exports/download/{token}/", None)],
        "privacy:approve_anonymization": [
            ("post", f"/privacy/anonymizations/{anonymization}/approve/", {"confirm": "yes"})
        ],
        "privacy:reject_anonymization": [
            ("post", f"/privacy/anonymizations/{anonymization}/reject/", {"reason": "leak?"})
        ],
        # A staff session is no API key: 401 and nothing changed.
        "privacy_api:request_export": [("post", f"/api/v1/customers/{customer}/export", request)],
        "privacy_api:export": [("get", f"/api/v1/exports/{export}", None)],
        "privacy_api:download": [("get", f"/api/v1/exports/{export}/download", None)],
    }


def segment_cases(alpha):
    """The first business's segments, their jobs, members and customers, from the other one."""
    from customers.models import Customer
    from segments.models import Segment, SegmentRecalculation

    customer = alpha["objects"][Customer]
    segment = alpha["objects"][Segment]
    page = f"/segments/{segment.pk}/"
    job = f"/segments/jobs/{alpha['objects'][SegmentRecalculation].pk}/"
    rules = '{"operator": "AND", "rules": [{"field": "tier", "operator": "in", "value": ["GOLD"]}]}'
    return {
        "segments:index": [("get", "/segments/", None)],
        "segments:create": [
            ("get", "/segments/new/", None),
            ("post", "/segments/new/", {"name": "x", "kind": "dynamic", "rules": rules, "preview": "1"}),
        ],
        "segments:preview": [
            ("post", "/segments/preview/", {"name": "x", "kind": "dynamic", "rules": rules}),
        ],
        "segments:detail": [("get", page, None)],
        "segments:edit": [
            ("get", f"{page}edit/", None),
            ("post", f"{page}edit/", {"name": "x", "rules": rules}),
        ],
        "segments:delete": [("post", f"{page}delete/", {"confirm": "yes"})],
        "segments:recalculate": [("post", f"{page}recalculate/", {"confirm": "yes"})],
        "segments:add_phones": [("post", f"{page}phones/", {"confirm": "yes"})],
        "segments:job_status": [("get", f"{job}status/", None)],
        "segments:job_retry": [("post", f"{job}retry/", {"confirm": "yes"})],
        "segments:job_cancel": [("post", f"{job}cancel/", {"confirm": "yes"})],
        # A staff session is no API key: 401 and nothing changed.
        "segments_api:segments": [
            ("get", "/api/v1/segments", None),
            ("post", "/api/v1/segments", {"x": "1"}),
        ],
        "segments_api:preview": [("post", "/api/v1/segments/preview", {"x": "1"})],
        "segments_api:segment": [("get", f"/api/v1/segments/{segment.pk}", None)],
        "segments_api:recalculate": [("post", f"/api/v1/segments/{segment.pk}/recalculate", {"x": "1"})],
        "segments_api:members": [("get", f"/api/v1/segments/{segment.pk}/members", None)],
        "segments_api:customer_segments": [("get", f"/api/v1/customers/{customer.pk}/segments", None)],
        "privacy:segment_audience": [
            ("get", f"/privacy/segments/{segment.pk}/audience.csv?channel=sms&purpose=marketing", None)
        ],
        "privacy_api:segment_audience": [
            ("get", f"/api/v1/segments/{segment.pk}/audience?channel=sms&purpose=marketing", None)
        ],
    }


def bulk_cases(alpha):
    """Bulk actions on the first business's customers and segment members, and its bulk job."""
    from customers.models import BulkActionJob, Customer, Tag
    from segments.models import Segment

    customer, tag, segment = (alpha["objects"][model] for model in (Customer, Tag, Segment))
    job = f"/customers/bulk/jobs/{alpha['objects'][BulkActionJob].pk}/"
    return {
        "customers:bulk": [
            ("get", f"/customers/bulk/?ids={customer.pk}", None),
            ("get", f"/customers/bulk/?q={FRAGMENT}", None),
            ("post", f"/customers/bulk/?action=add_tag&ids={customer.pk}", {"name": "leak?"}),
            ("post", f"/customers/bulk/?action=remove_tag&q={FRAGMENT}", {"tag_id": tag.pk}),
            (
                "post",
                f"/customers/bulk/?action=add_to_segment&segment={segment.pk}",
                {"segment_id": segment.pk},
            ),
        ],
        "customers:bulk_job": [("get", job, None)],
        "customers:bulk_job_status": [("get", f"{job}status/", None)],
        "customers:bulk_job_retry": [("post", f"{job}retry/", {"confirm": "yes"})],
        "customers:bulk_job_cancel": [("post", f"{job}cancel/", {"confirm": "yes"})],
    }


def loyalty_cases(alpha):
    """The first business's tier configuration, jobs and customers, from the other one."""
    from customers.models import Customer
    from loyalty.models import TierRecalculation

    customer = alpha["objects"][Customer]
    job = f"/loyalty/jobs/{alpha['objects'][TierRecalculation].pk}/"
    tiers = {"silver_spend": "1", "silver_period": "lifetime", "gold_period": "lifetime"}
    tiers.update(platinum_period="lifetime", grace_days="1", reason="leak?")
    return {
        "loyalty:index": [("get", "/loyalty/", None), ("post", "/loyalty/", {**tiers, "preview": "1"})],
        "loyalty:what_if": [("post", "/loyalty/what-if/", tiers)],
        "loyalty:recalculate": [("post", "/loyalty/recalculate/", {"confirm": "yes"})],
        "loyalty:job_status": [("get", f"{job}status/", None)],
        "loyalty:job_retry": [("post", f"{job}retry/", {"confirm": "yes"})],
        "loyalty:job_cancel": [("post", f"{job}cancel/", {"confirm": "yes"})],
        "loyalty:override": [
            ("post", f"/loyalty/customers/{customer.pk}/override/", {"tier": "BRONZE", "reason": "leak?"}),
            ("post", f"/loyalty/customers/{customer.pk}/override/", {"remove": "1"}),
        ],
        "loyalty:bulk_override": [
            ("get", f"/loyalty/overrides/?ids={customer.pk}", None),
            ("post", f"/loyalty/overrides/?ids={customer.pk}", {"tier": "BRONZE", "reason": "leak?"}),
            ("post", f"/loyalty/overrides/?q={FRAGMENT}", {"tier": "BRONZE", "reason": "leak?"}),
        ],
        # A staff session is no API key: 401 and nothing changed.
        "loyalty_api:tier_configuration": [("get", "/api/v1/tiers/configuration", None)],
        "loyalty_api:recalculate": [("post", "/api/v1/tiers/recalculate", {"x": "1"})],
        "loyalty_api:audits": [("get", "/api/v1/tiers/audits", None)],
        "loyalty_api:customer_loyalty": [("get", f"/api/v1/customers/{customer.pk}/loyalty", None)],
        "loyalty_api:customer_points": [
            (
                "post",
                f"/api/v1/customers/{customer.pk}/points",
                {"kind": "redeem", "points": 1, "reason": "x"},
            ),
        ],
        "loyalty:points_rule": [
            ("post", "/loyalty/points/rule/", {"points_per_unit": "9", "expiry_months": ""}),
        ],
        "loyalty:customer_points": [("get", f"/loyalty/customers/{customer.pk}/points/", None)],
        "loyalty:adjust_points": [
            ("post", f"/loyalty/customers/{customer.pk}/points/adjust/", {"points": "-1", "reason": "leak?"}),
        ],
    }


def preference_cases(alpha):
    """The first business's preferences and consent history, from the other one."""
    from customers.models import Customer

    customer = alpha["objects"][Customer]
    edit = {"frequency": "IMMEDIATE", "preferred_channel": "EMAIL", "source": "staff", "evidence": "leak?"}
    return {
        "privacy:consents": [
            ("get", "/privacy/consents/", None),
            ("get", f"/privacy/consents/?q={FRAGMENT}", None),
        ],
        "privacy:settings": [
            ("get", "/privacy/settings/", None),
            ("post", "/privacy/settings/", {"signup_email_marketing": "on", "signup_wording": "leak?"}),
        ],
        "privacy:edit_preferences": [
            ("get", f"/privacy/customers/{customer.pk}/preferences/", None),
            ("post", f"/privacy/customers/{customer.pk}/preferences/", edit),
        ],
        "privacy:customer_consents": [("get", f"/privacy/customers/{customer.pk}/consents/", None)],
        # A staff session is no API key: 401 and nothing changed.
        "privacy_api:preferences": [
            ("get", f"/api/v1/customers/{customer.pk}/preferences", None),
            ("put", f"/api/v1/customers/{customer.pk}/preferences", {"sms_marketing": False}),
        ],
        "privacy_api:consents": [("get", f"/api/v1/customers/{customer.pk}/consents", None)],
    }


def import_export_cases(alpha):
    """The first business's import and export jobs, looked at and acted on from the other one."""
    from customers.models import ExportJob, ImportJob

    business, owner = alpha["business"], alpha["owner"]
    import_job = ImportJob.objects.create(
        business=business,
        actor=owner,
        kind="customers",
        original_name=f"{MARKER}.csv",
        file="imports/x.csv",
        status="done",
        preview=[{"row": 2, "status": "error", "key": MARKER, "message": MARKER}],
        error_report="imports/x-rejected.csv",
    )
    export_job = ExportJob.objects.create(
        business=business, actor=owner, kind="customers", format="csv", status="failed", file="exports/x.csv"
    )
    imported, exported = f"/customers/import/{import_job.pk}/", f"/customers/export/{export_job.pk}/"
    return {
        "customers:import": [("get", "/customers/import/", None)],
        "customers:import_template": [("get", "/customers/import/template/customers.csv", None)],
        "customers:import_job": [("get", imported, None)],
        "customers:import_job_status": [("get", f"{imported}status/", None)],
        "customers:import_confirm": [("post", f"{imported}confirm/", {"confirm": "yes"})],
        "customers:import_job_retry": [("post", f"{imported}retry/", {"confirm": "yes"})],
        "customers:import_job_cancel": [("post", f"{imported}cancel/", {"confirm": "yes"})],
        "customers:import_rejected": [("get", f"{imported}rejected.csv", None)],
        "customers:export": [
            ("post", f"/customers/export/?q={FRAGMENT}", {"kind": "customers", "format": "csv"}),
            ("post", f"/customers/export/?q={FRAGMENT}", {"kind": "orders", "format": "xlsx"}),
        ],
        "customers:export_job": [("get", exported, None)],
        "customers:export_job_status": [("get", f"{exported}status/", None)],
        "customers:export_job_retry": [("post", f"{exported}retry/", {"confirm": "yes"})],
        "customers:export_job_cancel": [("post", f"{exported}cancel/", {"confirm": "yes"})],
        # A staff session is no API key: 401, whatever the job.
        "api:job": [("get", f"/api/v1/jobs/{job.pk}", None) for job in (import_job, export_job)],
        "customers:export_download": [("get", f"{exported}download/", None)],
    }


def admin_cases(alpha):
    cases = {
        "admin:index": [("get", "/admin/", None)],
        "admin:app_list": [
            ("get", f"/admin/{app}/", None) for app in ("customers", "auth", "django_q", "axes")
        ],
        "admin:autocomplete": [
            (
                "get",
                f"/admin/autocomplete/?term={FRAGMENT}&app_label=customers&model_name=membership"
                "&field_name=business",
                None,
            ),
        ],
        "admin:view_on_site": [],
        "admin:auth_user_password_change": [("get", f"/admin/auth/user/{alpha['owner'].pk}/password/", None)],
        "admin/(?P<url>.*)$": [],
    }
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        obj = alpha["objects"].get(model)
        cases[f"{info}_changelist"] = [("get", f"{base}?q={FRAGMENT}", None)]
        cases[f"{info}_add"] = [("get", f"{base}add/", None)]
        cases[f"{base.lstrip('/')}<path:object_id>/"] = [("get", f"{base}{obj.pk}/", None)] if obj else []
        for view in ("change", "delete", "history"):
            cases[f"{info}_{view}"] = [("get", f"{base}{obj.pk}/{view}/", None)] if obj else []
        if obj is not None:
            cases[f"{info}_delete"].append(("post", f"{base}{obj.pk}/delete/", {"post": "yes"}))
            content_type = ContentType.objects.get_for_model(model)
            cases["admin:view_on_site"].append(("get", f"/admin/r/{content_type.pk}/{obj.pk}/", None))
        for extra in ("import", "process_import", "export"):
            cases[f"{info}_{extra}"] = [("get", f"{base}{extra}/", None)]
    return cases


def unowned_models():
    """Admin-registered models that are not data of a business: only superusers reach them."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group, User
    from django_q.models import Failure, OrmQ, Schedule, Success

    return {User, Group, AccessAttempt, AccessFailureLog, AccessLog, Failure, OrmQ, Schedule, Success}


@pytest.mark.parametrize("role", list(Membership.Role))
def test_every_url_hides_another_business(role, alpha, other_business, make_member, client_for):
    cases = {**app_cases(alpha), **admin_cases(alpha)}
    names = {name for name, _ in walk(get_resolver().url_patterns)}

    missing = sorted(name for name in names if name not in cases and name not in NOT_TENANT_DATA)
    assert not missing, f"URL patterns with no tenancy case: {missing}"
    without_object = sorted(
        model.__name__
        for model in admin.site._registry
        if model not in alpha["objects"] and model not in unowned_models()
    )
    assert not without_object, f"admin models with no object of the first business: {without_object}"

    client = client_for(make_member(other_business, role))
    for name in sorted(names - set(NOT_TENANT_DATA)):
        for method, path, data in cases[name]:
            response = getattr(client, method)(path, data) if data else getattr(client, method)(path)
            content = b"".join(response.streaming_content) if response.streaming else response.content
            body = content.decode(errors="replace")
            assert response.status_code in (200, 302, 401, 403, 404), (name, path, response.status_code)
            assert MARKER not in body, f"{name} {method.upper()} {path} shows the other business's data"
            if response.status_code == 302:
                assert MARKER not in response["Location"]

    # Nothing of the first business was changed or deleted by those requests.
    assert Business.objects.filter(pk=alpha["business"].pk, name__startswith=MARKER).exists()
    from customers.models import Payment, Refund

    assert (
        Payment.objects.filter(business=alpha["business"]).values_list("refunded_amount", flat=True).get()
        == 2.5
    )
    assert Refund.objects.count() == 1
    for model, obj in alpha["objects"].items():
        assert model._default_manager.filter(pk=obj.pk).exists(), (
            f"{model.__name__} of the first business deleted"
        )
