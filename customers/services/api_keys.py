import hashlib
import hmac
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from customers.choices import ADMIN_SCOPE, API_SCOPES
from customers.models import ApiKey
from customers.services.audit import log_audit


def hash_secret(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def checked_scopes(scopes):
    unknown = sorted(set(scopes) - set(API_SCOPES))
    if unknown:
        raise ValidationError({"scopes": f"Unknown scopes: {', '.join(unknown)}."})
    if not scopes:
        raise ValidationError({"scopes": "Give the key at least one scope."})
    return sorted(set(scopes))


@transaction.atomic
def create_api_key(*, business, name, actor, scopes=(ADMIN_SCOPE,)):
    """A new key for the business, with every scope unless told otherwise. The secret is
    returned once and only its hash is kept."""
    scopes = checked_scopes(scopes)
    prefix = secrets.token_hex(4)
    secret = f"{prefix}.{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        business=business, name=name, prefix=prefix, hashed_secret=hash_secret(secret), scopes=scopes
    )
    log_audit(
        business=business,
        actor=actor,
        action="api_key.created",
        target=api_key,
        api_key_id=api_key.pk,
        scopes=scopes,
    )
    return api_key, secret


def change_api_key_scopes(*, api_key, scopes, actor):
    return change_field(api_key, "scopes", checked_scopes(scopes), "api_key.scopes_changed", actor)


def rename_api_key(*, api_key, name, actor):
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "An API key needs a name."})
    return change_field(api_key, "name", name, "api_key.renamed", actor)


@transaction.atomic
def change_field(api_key, field, value, action, actor):
    """Set one field of the key (locked), with an audit entry of the old and new value; nothing
    when it is unchanged."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    old = getattr(api_key, field)
    if value == old:
        return api_key
    setattr(api_key, field, value)
    api_key.save(update_fields=[field])
    log_audit(
        business=api_key.business,
        actor=actor,
        action=action,
        target=api_key,
        api_key_id=api_key.pk,
        old=old,
        new=value,
    )
    return api_key


@transaction.atomic
def revoke_api_key(*, api_key, actor):
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is not None:
        return api_key
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    log_audit(
        business=api_key.business,
        actor=actor,
        action="api_key.revoked",
        target=api_key,
        api_key_id=api_key.pk,
    )
    return api_key


def authenticate_api_key(secret):
    """The live key for this secret, or None."""
    prefix = (secret or "").split(".", 1)[0]
    # At most one: the prefix is unique (and first() would add an ORDER BY).
    keys = ApiKey.objects.select_related("business").filter(prefix=prefix, revoked_at__isnull=True)
    api_key = next(iter(keys), None)
    if api_key is None or not hmac.compare_digest(api_key.hashed_secret, hash_secret(secret)):
        return None
    return api_key
