import hashlib
import hmac
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from customers.models import ApiKey
from customers.services.audit import log_audit


def hash_secret(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_api_key(*, business, name, actor):
    """A new key for the business. The secret is returned once and only its hash is kept."""
    prefix = secrets.token_hex(4)
    secret = f"{prefix}.{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        business=business, name=name, prefix=prefix, hashed_secret=hash_secret(secret)
    )
    log_audit(business=business, actor=actor, action="api_key.created", target=api_key, api_key_id=api_key.pk)
    return api_key, secret


@transaction.atomic
def rename_api_key(*, api_key, name, actor):
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "An API key needs a name."})
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    old_name = api_key.name
    if name == old_name:
        return api_key
    api_key.name = name
    api_key.save(update_fields=["name"])
    log_audit(
        business=api_key.business,
        actor=actor,
        action="api_key.renamed",
        target=api_key,
        api_key_id=api_key.pk,
        old=old_name,
        new=name,
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
