"""The right to be forgotten: a request, a compliance officer's approval (not the
requester's: four eyes) or rejection, then the execution by a job. `anonymize_customers`
does the work for one customer (a request) or a chunk of them (retention), set-based, in one
transaction; what stays is what the business's analytics need (orders, items, payments and
refunds with their amounts, dates, statuses, tier and stats), linked to the anonymized record."""

import csv
import io
import logging
import re
import secrets
import zipfile
from collections import Counter, defaultdict

import phonenumbers
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import CharField, F, Q, TextField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django_q.tasks import async_task

from customers.jobs import claim_job, finish_job
from customers.models import (
    Activity,
    AuditEntry,
    BlacklistEntry,
    Customer,
    CustomerAccount,
    Dropoff,
    ExportJob,
    ImportJob,
    MergeRecord,
    Note,
    Payment,
    Refund,
)
from customers.services import log_activity
from customers.services.duplicates import forget_duplicate_candidates
from customers.services.jobs import UNEXPECTED_JOB_ERROR
from customers.signals import customer_anonymized
from loyalty.models import TierChange, TierState
from privacy.models import (
    AccessLog,
    AnonymizationJob,
    AnonymizationRequest,
    DataExport,
    Regulation,
    legal_due_date,
)
from privacy.services.exports import expire_export, may_run_privacy_actions

logger = logging.getLogger(__name__)

REDACTED = "[anonymized]"
REMOVED_NOTE = "(removed when the customer was anonymized)"
# Texts shorter than this are not looked for elsewhere (a two-letter name is in every text);
# the customer's own rows are cleared whatever they hold.
MIN_NEEDLE = 3
# The contact fields a timeline entry of a contact change holds old and new values of.
PERSONAL_FIELDS = {"phone", "first_name", "last_name", "preferred_name", "email", "date_of_birth"}
ADMIN_UPLOADS = "admin-imports"


# Requests -----------------------------------------------------------------------------


@transaction.atomic
def request_anonymization(
    *,
    customer,
    reason,
    actor,
    source=AnonymizationRequest.Source.CUSTOMER_REQUEST,
    regulation=Regulation.GDPR,
    subject_requested_at=None,
):
    """Ask for a customer's anonymization; a compliance officer other than `actor` approves it."""
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why (e.g. the person's request by email of 2026-11-02)."]})
    if regulation not in Regulation.values:
        raise ValidationError({"regulation": [f"Choose one of {', '.join(Regulation.values)}."]})
    if customer.anonymized_at:
        raise ValidationError("This customer is anonymized already.")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    open_request = AnonymizationRequest.objects.filter(
        customer=customer, status__in=AnonymizationRequest.OPEN_STATUSES
    ).first()
    if open_request is not None:
        return open_request
    subject_requested_at = subject_requested_at or timezone.now()
    request = AnonymizationRequest.objects.create(
        business_id=customer.business_id,
        customer=customer,
        source=source,
        regulation=regulation,
        reason=reason.strip(),
        requested_by=actor,
        subject_requested_at=subject_requested_at,
        due_at=legal_due_date(regulation, subject_requested_at),
    )
    log_activity(customer, Activity.Kind.ANONYMIZATION_REQUESTED, actor, request_id=request.pk)
    return request


def locked_open_request(request):
    request = AnonymizationRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != AnonymizationRequest.Status.REQUESTED:
        raise ValidationError(f"This request is {request.get_status_display().lower()} already.")
    return request


@transaction.atomic
def approve_anonymization(*, request, actor):
    """A person's act: a compliance officer who did not ask for it. The job runs after commit."""
    if not may_run_privacy_actions(actor, request.business_id):
        raise PermissionDenied
    request = locked_open_request(request)
    if request.requested_by_id == actor.pk:
        raise ValidationError("Another compliance officer approves this request: you asked for it.")
    request.status = AnonymizationRequest.Status.APPROVED
    request.decided_by, request.decided_at = actor, timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    job = AnonymizationJob.objects.create(business_id=request.business_id, actor=actor, request=request)
    queue_anonymization(job)
    return request


def queue_anonymization(job):
    """The job kind's start (retry calls it again)."""
    AnonymizationRequest.objects.filter(pk=job.request_id).update(status=AnonymizationRequest.Status.APPROVED)
    transaction.on_commit(lambda: async_task("privacy.tasks.anonymize", job.pk, group="privacy"))


@transaction.atomic
def reject_anonymization(*, request, actor, reason):
    if not may_run_privacy_actions(actor, request.business_id):
        raise PermissionDenied
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the request is rejected."]})
    request = locked_open_request(request)
    request.status = AnonymizationRequest.Status.REJECTED
    request.decided_by, request.decided_at = actor, timezone.now()
    request.rejection_reason = reason.strip()
    request.save(update_fields=["status", "decided_by", "decided_at", "rejection_reason"])
    return request


def run_anonymization_job(job_id):
    """Execute an approved request. Safe to call twice."""
    if not claim_job(job_id):
        return None
    job = AnonymizationJob.objects.select_related("request__business").get(pk=job_id)
    request = job.request
    try:
        with transaction.atomic():
            anonymize_customers(
                business=request.business, customer_ids=[request.customer_id], actor=job.actor
            )
            request.status, request.completed_at = AnonymizationRequest.Status.DONE, timezone.now()
            request.save(update_fields=["status", "completed_at"])
    except Exception:
        logger.exception("Anonymization request %s failed", request.pk)
        AnonymizationRequest.objects.filter(pk=request.pk).update(status=AnonymizationRequest.Status.FAILED)
        return finish_job(job, failure=UNEXPECTED_JOB_ERROR)
    job.total_rows = job.rows_done = 1
    return finish_job(job)


# The execution -------------------------------------------------------------------------


def phone_formats(phone):
    """The ways a phone may have been written: E.164, international, national, digits."""
    formats = {phone, phone.lstrip("+")}
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return formats
    for style in (phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.NATIONAL):
        written = phonenumbers.format_number(number, style)
        formats |= {written, written.replace(" ", "-"), written.replace("-", " ")}
    formats.add(str(number.national_number))
    return formats


def personal_texts(customer_ids):
    """Everything that identifies these customers as text, lower-case, to look for elsewhere."""
    texts = set()
    for phone, *names in Customer.objects.filter(pk__in=customer_ids).values_list(
        "phone", "first_name", "last_name", "preferred_name", "email"
    ):
        texts |= phone_formats(phone)
        texts.update(names)
        texts.add(" ".join(name for name in names[:2] if name))
    for email, phone, external_id in CustomerAccount.objects.filter(customer_id__in=customer_ids).values_list(
        "email", "phone", "external_id"
    ):
        texts |= {email, external_id, *(phone_formats(phone) if phone else [])}
    for street, street2, postal_code in Dropoff.objects.filter(customer_id__in=customer_ids).values_list(
        "street", "street2", "postal_code"
    ):
        texts |= {street, street2}
        if len(postal_code) >= 5:
            texts.add(postal_code)
    return Needles(sorted({text.lower() for text in texts if text and len(text) >= MIN_NEEDLE}))


class Needles:
    """The personal texts to look for, found in a text in time proportional to the text, not to
    the number of texts (a retention chunk looks for thousands): each text is indexed by its
    rarest word, and only the texts whose word the text holds are compared."""

    WORD = re.compile(r"\w+")

    def __init__(self, texts):
        self.texts = texts
        frequency = Counter(word for text in texts for word in set(self.WORD.findall(text)))
        self.by_word = defaultdict(list)
        for text in texts:
            words = self.WORD.findall(text)
            if words:
                self.by_word[min(words, key=lambda word: (frequency[word], -len(word)))].append(text)
        # Phones as digits, to recognize them written with any punctuation.
        self.digits = {text for text in texts if text.isdigit() and len(text) >= 7}

    def __bool__(self):
        return bool(self.texts)

    def __len__(self):
        return len(self.texts)

    def mentions(self, value):
        lowered = value.lower()
        for word in set(self.WORD.findall(lowered)) & self.by_word.keys():
            if any(text in lowered for text in self.by_word[word]):
                return True
        return False

    def is_phone(self, value):
        digits = re.sub(r"\D", "", value)
        return len(digits) >= 7 and any(digits[cut:] in self.digits for cut in range(4))


def scrub(value, needles):
    """A JSON value with every string that holds personal text replaced."""
    if isinstance(value, str):
        return REDACTED if needles.mentions(value) else value
    if isinstance(value, list):
        return [scrub(item, needles) for item in value]
    if isinstance(value, dict):
        return {key: scrub(item, needles) for key, item in value.items()}
    return value


# Up to this many texts, SQL finds the rows that hold them (one customer: a few ILIKEs on an
# index-bounded set); past it (a retention chunk), the rows are read and matched here.
SQL_NEEDLES = 50


def holding(queryset, field, needles, is_json=False):
    """The rows of `queryset` whose `field` holds one of `needles` (case-insensitive)."""
    if not needles:
        return queryset.none()
    column = Cast(field, TextField()) if is_json else F(field)
    annotated = queryset.annotate(_text=column)
    if len(needles) <= SQL_NEEDLES:
        condition = Q()
        for needle in needles.texts:
            condition |= Q(_text__icontains=needle)
        return annotated.filter(condition)
    rows = annotated.exclude(_text="").values_list("pk", "_text").iterator(chunk_size=5000)
    return queryset.filter(pk__in=[pk for pk, text in rows if text and needles.mentions(text)])


def scrub_json_rows(queryset, field, needles):
    rows = list(holding(queryset, field, needles, is_json=True).only("pk", field))
    for row in rows:
        setattr(row, field, scrub(getattr(row, field), needles))
    if rows:
        queryset.model.objects.bulk_update(rows, [field], batch_size=500)


def scrub_text_rows(queryset, fields, needles):
    for field in fields:
        rows = list(holding(queryset, field, needles).only("pk", field))
        for row in rows:
            setattr(row, field, REDACTED)
        if rows:
            queryset.model._base_manager.bulk_update(rows, [field], batch_size=500)


def with_merged(customer_ids):
    """These customers and those merged into them, however deep: the same person."""
    found, frontier = set(customer_ids), set(customer_ids)
    while frontier:
        frontier = set(Customer.objects.filter(merged_into__in=frontier).values_list("pk", flat=True)) - found
        found |= frontier
    return sorted(found)


@transaction.atomic
def anonymize_customers(*, business, customer_ids, actor):
    """Remove the personal data of these customers (and of the customers merged into them)
    from every table and file of the business, keeping their orders and figures. Customers
    anonymized already are left as they are, so running it twice changes nothing more.
    Returns the ids anonymized."""
    ids = list(
        Customer.objects.select_for_update()
        .filter(business=business, pk__in=with_merged(customer_ids), anonymized_at__isnull=True)
        .values_list("pk", flat=True)
    )
    if not ids:
        return []
    needles = personal_texts(ids)
    now = timezone.now()
    clear_customers(ids, now)
    CustomerAccount.objects.filter(customer_id__in=ids).update(email="", external_id="", phone="")
    Dropoff.objects.filter(customer_id__in=ids).update(
        street="",
        street2="",
        city="",
        state="",
        postal_code="",
        lat=None,
        lng=None,
        address_key=Concat(Value("anonymized-"), Cast("pk", CharField())),
    )
    Note.objects.filter(customer_id__in=ids).update(body=REMOVED_NOTE)
    forget_payers(ids)
    BlacklistEntry.objects.filter(customer_id__in=ids).exclude(note="").update(note="")
    TierState.objects.filter(customer_id__in=ids).exclude(override_reason="").update(override_reason=REDACTED)
    scrub_text_rows(TierChange.objects.filter(customer_id__in=ids), ["reason"], needles)
    scrub_timelines(ids, needles)
    scrub_merges(business, ids, needles)
    forget_duplicate_candidates(ids)
    scrub_business_records(business, ids, needles)
    remove_files(business, ids, needles)
    Activity.objects.bulk_create(
        Activity(
            business=business, customer_id=pk, kind=Activity.Kind.ANONYMIZED, actor=actor, created_at=now
        )
        for pk in ids
    )
    customer_anonymized.send(sender=Customer, business=business, customer_ids=ids, actor=actor)
    return ids


def forget_payers(ids):
    """Payments and refunds stay with their amounts, methods and statuses; the provider's
    transaction id (which the provider links to the card or account that paid) and what
    support wrote about the refund go."""
    Payment.objects.filter(order__customer_id__in=ids).update(
        transaction_id=Concat(Value("anonymized-"), Cast("pk", CharField()))
    )
    Refund.objects.filter(payment__order__customer_id__in=ids).exclude(reason="").update(reason=REDACTED)


def clear_customers(ids, now):
    customers = list(Customer.objects.filter(pk__in=ids).only("pk"))
    for customer in customers:
        # Random, never derived from the phone: a hash of a phone number is reversed by trying them all.
        customer.phone = f"anon-{secrets.token_hex(6)}"
    Customer.objects.bulk_update(customers, ["phone"], batch_size=1000)
    Customer.objects.filter(pk__in=ids).update(
        first_name="",
        last_name="",
        preferred_name="",
        email="",
        date_of_birth=None,
        search_text="",
        phone_verified=False,
        anonymized_at=now,
        updated_at=now,
    )


def scrub_timelines(ids, needles):
    """Their own entries lose every personal value; others' entries (a survivor's merge entry
    naming them) lose the texts that identify them."""
    own = Activity.objects.filter(customer_id__in=ids)
    changes = list(own.filter(kind=Activity.Kind.CONTACT_UPDATED).only("pk", "data"))
    for activity in changes:
        activity.data["changes"] = {
            field: [REDACTED, REDACTED] if field in PERSONAL_FIELDS else values
            for field, values in activity.data.get("changes", {}).items()
        }
    Activity.objects.bulk_update(changes, ["data"], batch_size=500)
    own.filter(kind=Activity.Kind.CREATED).update(data={"phone": REDACTED})
    notes = list(
        own.filter(kind__in=[Activity.Kind.BLACKLISTED, Activity.Kind.UNBLACKLISTED]).only("pk", "data")
    )
    for activity in notes:
        if activity.data.get("note"):
            activity.data["note"] = REDACTED
    Activity.objects.bulk_update(notes, ["data"], batch_size=500)
    payments = list(
        own.filter(kind__in=[Activity.Kind.PAYMENT_RECORDED, Activity.Kind.REFUNDED]).only("pk", "data")
    )
    for activity in payments:
        activity.data["transaction_id"] = REDACTED
        if activity.data.get("reason"):
            activity.data["reason"] = REDACTED
    Activity.objects.bulk_update(payments, ["data"], batch_size=500)
    related = set(
        Customer.objects.filter(pk__in=ids).exclude(merged_into=None).values_list("merged_into", flat=True)
    )
    scrub_json_rows(Activity.objects.filter(customer_id__in=[*ids, *related]), "data", needles)


def scrub_merges(business, ids, needles):
    """Merge records keep the merged customers' state for an undo: theirs is scrubbed."""
    survivors = set(ids) | set(
        Customer.objects.filter(pk__in=ids).exclude(merged_into=None).values_list("merged_into", flat=True)
    )
    records = MergeRecord.objects.filter(business=business, survivor_id__in=survivors)
    scrub_json_rows(records, "snapshot", needles)
    scrub_text_rows(records, ["reason"], needles)


def scrub_business_records(business, ids, needles):
    """Texts of the business that may quote them: import previews, audit entries, the access
    log's searches, the admin's history."""
    scrub_json_rows(ImportJob.objects.filter(business=business), "preview", needles)
    scrub_json_rows(AuditEntry.objects.filter(business=business), "data", needles)
    scrub_text_rows(AuditEntry.objects.filter(business=business), ["target"], needles)
    # The one change the access log's trigger lets through: a search that names them.
    holding(AccessLog.objects.filter(business=business), "query", needles).update(query=REDACTED)
    customer_type = ContentType.objects.get_for_model(Customer)
    LogEntry.objects.filter(content_type=customer_type, object_id__in=[str(pk) for pk in ids]).update(
        object_repr=REDACTED
    )
    scrub_text_rows(LogEntry.objects.all(), ["object_repr", "change_message"], needles)


# Files ---------------------------------------------------------------------------------


def file_texts(name):
    """The cells of a CSV or XLSX file (any other file: its text), as lower-case strings."""
    with default_storage.open(name, "rb") as file:
        content = file.read()
    if content[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                return [
                    archive.read(member).decode("utf-8", "replace").lower()
                    for member in archive.namelist()
                    if member.endswith((".xml", ".json", ".html", ".txt"))
                ]
        except zipfile.BadZipFile:
            pass
    text = content.decode("utf-8-sig", "replace")
    try:
        return [cell.lower() for row in csv.reader(io.StringIO(text)) for cell in row]
    except csv.Error:
        return [text.lower()]


def file_mentions(name, needles):
    try:
        texts = file_texts(name)
    except FileNotFoundError:
        return False
    return any(needles.mentions(text) or needles.is_phone(text) for text in texts)


def remove_files(business, ids, needles):
    """Import files, rejected-row reports, list exports and admin uploads that hold them are
    deleted (their jobs say so); their own data exports expire."""
    for export in DataExport.objects.filter(customer_id__in=ids).exclude(file=""):
        expire_export(export)
    for job in ImportJob.objects.filter(business=business).exclude(file="", error_report=""):
        changed = [
            field
            for field in ("file", "error_report")
            if getattr(job, field) and file_mentions(getattr(job, field).name, needles)
        ]
        for field in changed:
            getattr(job, field).delete(save=False)
            setattr(job, field, "")
        if changed:
            job.save(update_fields=changed)
    for job in ExportJob.objects.filter(business=business).exclude(file=""):
        if file_mentions(job.file.name, needles):
            job.file.delete(save=False)
            job.file = ""
            job.save(update_fields=["file"])
    try:
        _, uploads = default_storage.listdir(ADMIN_UPLOADS)
    except FileNotFoundError:
        uploads = []
    for upload in uploads:
        name = f"{ADMIN_UPLOADS}/{upload}"
        if file_mentions(name, needles):
            default_storage.delete(name)
