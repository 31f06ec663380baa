"""Writes of communication preferences. A consent value with no event behind it does not
exist: every change of a consent field writes its ConsentEvent, and every change its
timeline entry, in the same transaction as the change."""

import datetime as dt
from collections import Counter, defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from customers.models import Activity, Customer, MergeRecord
from customers.services.identity import lock
from privacy.models import (
    CONSENT_FIELDS,
    DEFAULTS,
    FIELD_OF_CONSENT,
    LABELS,
    MARKETING_CHANNEL_FIELDS,
    CommunicationPreference,
    ConsentEvent,
    PrivacySettings,
)
from privacy.queries.preferences import (
    PREFERENCE_FIELDS,
    default_preferences,
    hh_mm,
    parse_hh_mm,
    time_zone_names,
)
from segments import services as segment_services

Source = ConsentEvent.Source
GRANT_NEEDS_EVIDENCE = (
    "Say what the customer was shown or told when they agreed: a consent needs its evidence."
)
# What a merge keeps in the merge record's snapshot to undo its part: {field: [before, after]}.
MERGE_SNAPSHOT_KEY = "privacy_preferences"
# The opt-in fields of the order API and the import files, and the consent fields each sets.
# A channel's own field wins over marketing_opt_in when both are given.
OPT_IN_FIELDS = {
    "marketing_opt_in": MARKETING_CHANNEL_FIELDS,
    "email_opt_in": ["email_marketing"],
    "sms_opt_in": ["sms_marketing"],
}


def clean_changes(changes):
    """The changes as stored values; a ValidationError names each wrong field."""
    errors, cleaned = {}, {}
    for name, value in changes.items():
        if name not in PREFERENCE_FIELDS:
            errors[name] = "Not a communication preference."
            continue
        try:
            cleaned[name] = clean_value(name, value)
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_value(name, value):
    if name in CONSENT_FIELDS:
        if type(value) is not bool:
            raise ValidationError("Enter true or false.")
        return value
    if name in ("frequency", "preferred_channel"):
        choices = CommunicationPreference._meta.get_field(name).choices
        if value not in [choice for choice, _ in choices]:
            raise ValidationError(f"Enter one of: {', '.join(choice for choice, _ in choices)}.")
        return value
    if name == "timezone":
        if value in (None, ""):
            return ""
        if not isinstance(value, str) or value not in time_zone_names():
            raise ValidationError(
                "Enter a time zone name such as Europe/Paris, or null for the customer's own."
            )
        return value
    # Quiet hours.
    if value is None or isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0) if value else None
    try:
        return parse_hh_mm(value)
    except ValueError:
        raise ValidationError("Enter a time as “HH:MM”, e.g. 22:00, or null.") from None


def check_quiet_hours(record):
    start, end = record.quiet_hours_start, record.quiet_hours_end
    if (start is None) != (end is None):
        missing = "quiet_hours_end" if end is None else "quiet_hours_start"
        raise ValidationError({missing: "Quiet hours need a start and an end (or neither)."})
    if start is not None and start == end:
        raise ValidationError({"quiet_hours_end": "Quiet hours cannot start and end at the same time."})


def stored(value):
    """A preference value as the timeline's JSON keeps it."""
    return hh_mm(value) if isinstance(value, dt.time) else value


def consent_events(record, changed, *, source, evidence, reference, actor, at):
    return [
        ConsentEvent(
            business_id=record.business_id,
            customer_id=record.customer_id,
            purpose=CONSENT_FIELDS[name][0],
            channel=CONSENT_FIELDS[name][1],
            action=ConsentEvent.Action.GRANTED if value else ConsentEvent.Action.WITHDRAWN,
            source=source,
            actor=actor,
            evidence=evidence,
            reference=reference,
            at=at,
        )
        for name, value in changed.items()
        if name in CONSENT_FIELDS
    ]


def preference_activity(record, old, changed, *, source, evidence, reference, actor, at):
    changes = [
        {"field": name, "label": LABELS[name], "old": stored(old[name]), "new": stored(value)}
        for name, value in changed.items()
    ]
    return Activity(
        business_id=record.business_id,
        customer_id=record.customer_id,
        kind=Activity.Kind.PREFERENCE_CHANGED,
        actor=actor,
        data={"changes": changes, "source": source, "evidence": evidence, "reference": reference},
        created_at=at,
    )


def check_source(source):
    if source not in Source.values:
        raise ValidationError({"source": f"Enter one of: {', '.join(Source.values)}."})


@transaction.atomic
def update_preferences(*, customer, changes, source, evidence="", actor, reference=""):
    """Change some of a customer's preferences (seed 004's names); returns the whole record.
    A grant needs `evidence`: the wording the customer was shown, or what they said."""
    check_source(source)
    cleaned = clean_changes(changes)
    evidence = (evidence or "").strip()
    # The customer's row lock serializes changes of their preferences; the caller's instance
    # stays on the record (with the business it may have loaded).
    locked = lock(customer)
    record = CommunicationPreference.objects.filter(customer=locked).first() or default_preferences(customer)
    record.customer = customer
    old = {name: getattr(record, name) for name in cleaned}
    changed = {name: value for name, value in cleaned.items() if old[name] != value}
    for name, value in changed.items():
        setattr(record, name, value)
    check_quiet_hours(record)
    if not changed:
        return record
    grants = any(value for name, value in changed.items() if name in CONSENT_FIELDS)
    if grants and locked.anonymized_at:
        raise ValidationError("An anonymized customer cannot be opted in to anything.")
    if grants and not evidence:
        raise ValidationError({"evidence": GRANT_NEEDS_EVIDENCE})
    at = timezone.now()
    record.updated_at = at
    record.save()
    context = {"source": source, "evidence": evidence, "reference": reference, "actor": actor, "at": at}
    ConsentEvent.objects.bulk_create(consent_events(record, changed, **context))
    preference_activity(record, old, changed, **context).save()
    # Segments with opt-in rules re-evaluate the customer within a minute.
    segment_services.note_customers(customer.business_id, [customer.pk])
    return record


def set_consents_in_bulk(*, business, consents, source, evidence, reference, actor):
    """Set consent fields of many customers, {customer id: {field: bool}}, set-based: one
    query reads their records, one inserts the missing ones, one updates the others, one
    inserts the events and one the timeline entries. Only changes are written. `evidence`
    and `reference` are texts, or {customer id: text}. For callers inside their own transaction (checkout,
    imports, merges, sign-up), whose customers are theirs to change."""
    if not consents:
        return
    at = timezone.now()
    existing = {
        record.customer_id: record
        for record in CommunicationPreference.objects.filter(customer_id__in=list(consents))
    }
    new, updated, events, activities = [], [], [], []
    for customer_id, values in consents.items():
        record = existing.get(customer_id)
        if record is None:
            record = CommunicationPreference(
                business=business, customer_id=customer_id, created_at=at, **DEFAULTS
            )
        old = {name: getattr(record, name) for name in values}
        changed = {name: value for name, value in values.items() if old[name] != value}
        if not changed:
            continue
        for name, value in changed.items():
            setattr(record, name, value)
        record.updated_at = at
        (updated if record.pk else new).append(record)
        context = {
            "source": source,
            "evidence": evidence[customer_id] if isinstance(evidence, dict) else evidence,
            "reference": reference[customer_id] if isinstance(reference, dict) else reference,
            "actor": actor,
            "at": at,
        }
        events += consent_events(record, changed, **context)
        activities.append(preference_activity(record, old, changed, **context))
    CommunicationPreference.objects.bulk_create(new, batch_size=500)
    CommunicationPreference.objects.bulk_update(updated, [*CONSENT_FIELDS, "updated_at"], batch_size=500)
    ConsentEvent.objects.bulk_create(events, batch_size=500)
    Activity.objects.bulk_create(activities, batch_size=500)
    segment_services.note_customers(business.pk, [activity.customer_id for activity in activities])


def consents_from_opt_ins(opt_ins):
    """The consent fields set by opt-in fields {"marketing_opt_in": true, "sms_opt_in": false}."""
    consents = {}
    for name, fields in OPT_IN_FIELDS.items():  # marketing_opt_in first: the channels' own win
        if opt_ins.get(name) is not None:
            consents.update(dict.fromkeys(fields, opt_ins[name]))
    return consents


def record_opt_ins(*, business, opt_ins, source, where, reference="", actor=None):
    """Record the opt-in fields of an order or an import, {customer id: {"email_opt_in": True,
    ...}}, as consent events of `source` (checkout or import). The evidence is what was sent,
    and where (a text, or {customer id: text}): the storefront's checkout or the import file
    shows its own wording."""
    evidence = {
        customer_id: f"{where[customer_id] if isinstance(where, dict) else where}: "
        + ", ".join(f"{name}={'true' if value else 'false'}" for name, value in given.items())
        for customer_id, given in opt_ins.items()
    }
    set_consents_in_bulk(
        business=business,
        consents={customer_id: consents_from_opt_ins(given) for customer_id, given in opt_ins.items()},
        source=source,
        evidence=evidence,
        reference=reference,
        actor=actor,
    )


def record_checkout_opt_ins(*, business, checkouts):
    """The opt-in fields of orders, [{"customer_id", "external_id", "source", "opt_ins"}], as
    consents given at each order's checkout, in their order: each customer's first order in
    one set-based write, their second ones in the next, and so on."""
    rounds = defaultdict(dict)
    seen = Counter()
    for checkout in checkouts:
        rounds[seen[checkout["customer_id"]]][checkout["customer_id"]] = checkout
        seen[checkout["customer_id"]] += 1
    for _, by_customer in sorted(rounds.items()):
        record_opt_ins(
            business=business,
            opt_ins={customer_id: checkout["opt_ins"] for customer_id, checkout in by_customer.items()},
            source=Source.CHECKOUT,
            where={
                customer_id: checkout_place(checkout["external_id"], checkout["source"])
                for customer_id, checkout in by_customer.items()
            },
            reference={
                customer_id: f"order {checkout['external_id']}"
                for customer_id, checkout in by_customer.items()
            },
        )


def checkout_place(external_id, source):
    return f"Checkout of order {external_id}" + (f" ({source})" if source else "")


def opt_in_at_signup(*, business, customer_ids):
    """New customers of a business whose customers opt in to marketing when they sign up get
    those consents, each with an event of source "signup" whose evidence is the business's
    wording at that moment."""
    if not customer_ids:
        return
    settings = PrivacySettings.objects.filter(business=business).first()
    if settings is None or not settings.signup_fields:
        return
    set_consents_in_bulk(
        business=business,
        consents={customer_id: dict.fromkeys(settings.signup_fields, True) for customer_id in customer_ids},
        source=Source.SIGNUP,
        evidence=settings.signup_wording,
        reference="sign-up",
        actor=None,
    )


@transaction.atomic
def update_privacy_settings(*, business, actor, **values):
    """Save the business's sign-up opt-in settings; an opt-in needs the wording customers see."""
    settings = PrivacySettings.objects.select_for_update().filter(business=business).first()
    settings = settings or PrivacySettings(business=business)
    for name, value in values.items():
        setattr(settings, name, value)
    settings.signup_wording = (settings.signup_wording or "").strip()
    if settings.signup_fields and not settings.signup_wording:
        raise ValidationError({"signup_wording": "Give the wording customers agree to when they sign up."})
    settings.updated_by = actor
    settings.save()
    return settings


# Merges -------------------------------------------------------------------------------


def merge_preferences(*, record, survivor, merged):
    """A merge keeps, for each consent, the most restrictive of the merged records (a
    consent holds only if every record had it); the survivor's events are written with
    source "merge". The consent histories move with the merge registry (MOVE)."""
    ids = [survivor.pk, *(customer.pk for customer in merged)]
    records = {r.customer_id: r for r in CommunicationPreference.objects.filter(customer_id__in=ids)}

    def value(customer_id, name):
        found = records.get(customer_id)
        return getattr(found, name) if found else DEFAULTS[name]

    restricted = {
        name: False
        for name in CONSENT_FIELDS
        if value(survivor.pk, name) and not all(value(pk, name) for pk in ids)
    }
    if not restricted:
        return
    merged_list = ", ".join(f"#{customer.pk}" for customer in merged)
    set_consents_in_bulk(
        business=survivor.business,
        consents={survivor.pk: restricted},
        source=Source.MERGE,
        evidence=f"Merge of {merged_list}: the most restrictive consent of the merged customers is kept.",
        reference=f"merge #{record.pk}",
        actor=record.actor,
    )
    last_event = ConsentEvent.objects.filter(customer=survivor).order_by("-pk").values_list("pk", flat=True)
    record.snapshot[MERGE_SNAPSHOT_KEY] = {"withdrawn": list(restricted), "last_event": last_event.first()}
    MergeRecord.objects.filter(pk=record.pk).update(snapshot=record.snapshot)


def undo_merge_preferences(*, record):
    """An undo gives the survivor back the consents the merge withdrew, unless they changed
    since (an event after the merge's); the evidence is the survivor's own consent before the
    merge, in its history."""
    withdrawn = record.snapshot.get(MERGE_SNAPSHOT_KEY)
    if not withdrawn:
        return
    survivor = Customer.objects.select_related("business").get(pk=record.survivor_id)
    changed_since = {
        FIELD_OF_CONSENT[pair]
        for pair in ConsentEvent.objects.filter(
            customer=survivor, pk__gt=withdrawn["last_event"]
        ).values_list("purpose", "channel")
    }
    restored = {name: True for name in withdrawn["withdrawn"] if name not in changed_since}
    set_consents_in_bulk(
        business=survivor.business,
        consents={survivor.pk: restored} if restored else {},
        source=Source.MERGE,
        evidence=f"Merge #{record.pk} undone: the consent the customer had before the merge is restored.",
        reference=f"merge #{record.pk}",
        actor=record.undone_by,
    )


# Demo data ----------------------------------------------------------------------------

DEMO_CHUNK = 5000
DEMO_WORDING = "Yes, send me offers and news by email and SMS. I can unsubscribe at any time."


ANONYMIZED_EVIDENCE = "[anonymized]"


def clear_anonymized_preferences(*, business, customer_ids, actor):
    """Anonymization's part of the preferences, in its transaction: every consent still
    granted is withdrawn by one last event, the record goes back to the defaults with every
    consent off, and the evidence of the earlier events (words a person may have typed) is
    blanked. The events themselves stay: that consent was given and withdrawn is the proof."""
    records = CommunicationPreference.objects.filter(business=business, customer_id__in=customer_ids)
    granted = {
        record.customer_id: {name: False for name in CONSENT_FIELDS if getattr(record, name)}
        for record in records
    }
    set_consents_in_bulk(
        business=business,
        consents={pk: values for pk, values in granted.items() if values},
        source=Source.ANONYMIZATION,
        evidence="The customer's personal data was anonymized.",
        reference="",
        actor=actor,
    )
    records.update(
        **{name: False for name in CONSENT_FIELDS},
        frequency=CommunicationPreference.Frequency.IMMEDIATE,
        preferred_channel=CommunicationPreference.PreferredChannel.EMAIL,
        timezone="",
        quiet_hours_start=None,
        quiet_hours_end=None,
        updated_at=timezone.now(),
    )
    ConsentEvent.objects.filter(business=business, customer_id__in=customer_ids).exclude(
        source=Source.ANONYMIZATION
    ).update(evidence=ANONYMIZED_EVIDENCE, reference=ANONYMIZED_EVIDENCE)


def seed_demo_preferences(*, business, actor, rng):
    """seed_demo's preferences: two customers in three with a record, each consent with
    its history (opted in at sign-up or checkout, some withdrawn since on request), written
    in bulk chunk by chunk; customers who have a record already are left alone."""
    PrivacySettings.objects.get_or_create(
        business=business,
        defaults={"signup_email_marketing": True, "signup_wording": DEMO_WORDING},
    )
    customers = (
        Customer.objects.filter(business=business, communication_preference__isnull=True)
        .live()
        .order_by("pk")
        .values_list("pk", "created_at", "timezone")
    )
    now = timezone.now()
    chunk = []
    for row in customers.iterator(chunk_size=DEMO_CHUNK):
        # Picked by id, not at random: seeding the business again picks the same customers.
        if row[0] % 3:
            chunk.append(row)
        if len(chunk) >= DEMO_CHUNK:
            write_demo_chunk(business, chunk, actor, rng, now)
            chunk = []
    write_demo_chunk(business, chunk, actor, rng, now)


def write_demo_chunk(business, customers, actor, rng, now):
    records, events, activities = [], [], []
    for customer_id, created_at, customer_timezone in customers:
        record = CommunicationPreference(
            business=business, customer_id=customer_id, created_at=created_at, **DEFAULTS
        )
        at = created_at
        history = [("email_marketing", True, Source.SIGNUP, DEMO_WORDING, None)]
        if rng.random() < 0.4:
            history.append(("sms_marketing", True, Source.CHECKOUT, "Checkout: sms_opt_in=true", None))
        if rng.random() < 0.2:
            history.append(
                (
                    "newsletter_subscription",
                    True,
                    Source.STAFF,
                    "Asked for the newsletter on the phone",
                    actor,
                )
            )
        if rng.random() < 0.15:
            history.append(
                ("email_marketing", False, Source.CUSTOMER_REQUEST, "Unsubscribed by replying STOP", None)
            )
        for name, value, source, evidence, by in history:
            at = min(now, at + dt.timedelta(days=rng.randint(0, 90), minutes=rng.randint(1, 600)))
            old = {name: getattr(record, name)}
            setattr(record, name, value)
            context = {"source": source, "evidence": evidence, "reference": "demo", "actor": by, "at": at}
            events += consent_events(record, {name: value}, **context)
            activities.append(preference_activity(record, old, {name: value}, **context))
        if rng.random() < 0.3:
            record.quiet_hours_start, record.quiet_hours_end = dt.time(22), dt.time(8)
            record.timezone = customer_timezone
        record.updated_at = at
        records.append(record)
    with transaction.atomic():
        CommunicationPreference.objects.bulk_create(records, batch_size=1000)
        ConsentEvent.objects.bulk_create(events, batch_size=1000)
        Activity.objects.bulk_create(activities, batch_size=1000)
