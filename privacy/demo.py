"""seed_demo's privacy data: a few export and anonymization requests in each state, made
through the services as the demo's staff would (once: a business that has requests keeps them)."""

from django.db import transaction

from customers.models import Customer, Membership
from privacy import services
from privacy.models import AnonymizationJob, DataExport, DataExportJob
from privacy.services.exports import expire_export


def staff(business, role):
    membership = Membership.objects.filter(business=business, role=role).select_related("user").first()
    return membership.user if membership else None


def seed_demo_requests(*, business, support, rng):
    owner, compliance = staff(business, Membership.Role.OWNER), staff(business, Membership.Role.COMPLIANCE)
    if compliance is None or DataExport.objects.filter(business=business).exists():
        return
    customers = list(
        Customer.objects.filter(business=business, anonymized_at__isnull=True).live().order_by("pk")[:200]
    )
    if len(customers) < 7:
        return
    picked = rng.sample(customers, 7)
    completed = services.request_data_export(
        customer=picked[0], type=DataExport.Type.GDPR_FULL, reason="Access request by email", actor=compliance
    )
    services.run_data_export(DataExportJob.objects.get(export=completed).pk)
    expired = services.request_data_export(
        customer=picked[6], type=DataExport.Type.GDPR_BASIC, reason="Asked by letter", actor=compliance
    )
    services.run_data_export(DataExportJob.objects.get(export=expired).pk)
    expire_export(DataExport.objects.get(pk=expired.pk))
    if owner is not None:
        services.request_data_export(
            customer=picked[1], type=DataExport.Type.GDPR_BASIC, reason="Asked at the counter", actor=owner
        )
    services.request_data_export(
        customer=picked[2],
        type=DataExport.Type.BUSINESS_ANALYTICS,
        reason="Analytics sample",
        actor=compliance,
    )
    services.request_anonymization(customer=picked[3], reason="Asked to be forgotten by email", actor=support)
    rejected = services.request_anonymization(
        customer=picked[4], reason="Asked to be forgotten", actor=support
    )
    services.reject_anonymization(
        request=rejected, actor=compliance, reason="Open fraud case: the data must be kept for now."
    )
    with transaction.atomic():
        done = services.request_anonymization(customer=picked[5], reason="Right to erasure", actor=support)
        services.approve_anonymization(request=done, actor=compliance)
    job = AnonymizationJob.objects.get(request=done)
    services.run_anonymization_job(job.pk)
