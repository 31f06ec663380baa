"""Creating, changing and deleting segments, with the business's audit entries. A dynamic
segment's members are computed by a recalculation job queued once the change commits."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.services.audit import log_audit
from segments import rules as segment_rules
from segments.models import Segment
from segments.services import presets
from segments.services.recalculation import request_recalculation

NAME_TAKEN = "Another segment of this business has this name."


def clean_segment(*, name, description, kind, rules):
    errors = {}
    name = " ".join((name or "").split()) if isinstance(name, str) else ""
    if not name:
        errors["name"] = ["A segment needs a name."]
    elif len(name) > 100:
        errors["name"] = ["At most 100 characters."]
    if description is not None and not isinstance(description, str):
        errors["description"] = ["The description is text."]
    if kind not in Segment.Kind.values:
        errors["kind"] = ["kind is “dynamic” or “static”."]
    cleaned_rules = {}
    if kind == Segment.Kind.DYNAMIC:
        try:
            cleaned_rules = segment_rules.clean_rules(rules)
        except segment_rules.RuleError as error:
            errors["rules"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    return name, (description or "").strip(), cleaned_rules


def name_taken(business, name, exclude_pk=None):
    return Segment.objects.live().filter(business=business, name__iexact=name).exclude(pk=exclude_pk).exists()


@transaction.atomic
def create_segment(
    *, business, actor, name, kind=Segment.Kind.DYNAMIC, rules=None, description="", preset=""
):
    """A new segment; a dynamic one gets its members from a recalculation job, returned as
    (segment, job); a static one starts empty (job None)."""
    name, description, rules = clean_segment(name=name, description=description, kind=kind, rules=rules)
    if name_taken(business, name):
        raise ValidationError({"name": [NAME_TAKEN]})
    now = timezone.now()
    try:
        with transaction.atomic():
            segment = Segment.objects.create(
                business=business,
                name=name,
                description=description,
                kind=kind,
                rules=rules,
                preset=preset,
                time_relative=segment_rules.is_time_relative(rules) if rules else False,
                created_by=actor,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError as error:
        # Another request created the same name (or preset) meanwhile.
        raise ValidationError({"name": [NAME_TAKEN]}) from error
    log_audit(business=business, actor=actor, action="segment.created", target=segment, segment_id=segment.pk)
    job = None
    if segment.kind == Segment.Kind.DYNAMIC:
        job = request_recalculation(segment=segment, actor=actor, reason="Created")
    return segment, job


@transaction.atomic
def update_segment(*, segment, actor, name, description, rules=None, active=None):
    """Change a segment's name, description, rules or active flag; changed rules of a
    dynamic segment queue a recalculation (returned, else None). The kind stays."""
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    name, description, rules = clean_segment(
        name=name,
        description=description,
        kind=segment.kind,
        rules=rules if rules is not None else segment.rules,
    )
    if name_taken(segment.business, name, exclude_pk=segment.pk):
        raise ValidationError({"name": [NAME_TAKEN]})
    old = {
        "name": segment.name,
        "description": segment.description,
        "rules": segment.rules,
        "active": segment.active,
    }
    segment.name, segment.description, segment.rules = name, description, rules
    if active is not None:
        segment.active = bool(active)
    segment.time_relative = segment_rules.is_time_relative(rules) if rules else False
    new = {
        "name": segment.name,
        "description": segment.description,
        "rules": segment.rules,
        "active": segment.active,
    }
    if new == old:
        return segment, None
    segment.updated_at = timezone.now()
    segment.save()
    log_audit(
        business=segment.business, actor=actor, action="segment.updated", target=segment, old=old, new=new
    )
    job = None
    if (
        segment.kind == Segment.Kind.DYNAMIC
        and segment.active
        and (new["rules"] != old["rules"] or not old["active"])
    ):
        job = request_recalculation(segment=segment, actor=actor, reason="Rules changed")
    return segment, job


@transaction.atomic
def delete_segment(*, segment, actor):
    """Soft delete: the segment disappears from lists, recalculations and the profile; its
    name can be used again. Memberships and history stay for the audit."""
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    if segment.deleted_at is None:
        segment.deleted_at = timezone.now()
        segment.save(update_fields=["deleted_at"])
        log_audit(business=segment.business, actor=actor, action="segment.deleted", target=segment)
    return segment


def ensure_presets(*, business, actor=None):
    """Create the presets this business has never had (each once: one deleted stays deleted),
    each with its recalculation queued. Called by the segments list page, the API's list
    and seed_demo; cheap once they exist (one query). Returns [(segment, job)]."""
    had = set(Segment.objects.filter(business=business).exclude(preset="").values_list("preset", flat=True))
    created = []
    for preset in presets.PRESETS:
        if preset.key in had:
            continue
        try:
            segment, job = create_segment(
                business=business,
                actor=actor,
                name=preset.name,
                description=preset.description,
                rules=preset.rules,
                preset=preset.key,
            )
        except ValidationError:
            # A segment of the business already has the preset's name (or a concurrent
            # request created the preset): theirs stands.
            continue
        created.append((segment, job))
    return created
