import datetime as dt
import os
import subprocess
import sys

from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

LOGIN = "/accounts/login/"


def wrong_password(client, username, address="10.0.0.1", forwarded_for=None):
    extra = {"REMOTE_ADDR": address}
    if forwarded_for:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(LOGIN, {"username": username, "password": "wrong"}, **extra)


def test_pages_with_customer_data_are_never_cached(owner, client_for):
    client = client_for(owner)
    for url in ("/", "/customers/", "/admin/"):
        assert "no-store" in client.get(url)["Cache-Control"], url


def test_security_headers_on_every_page(owner, client_for):
    response = client_for(owner).get("/customers/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    policy = response["Content-Security-Policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'self'" in script_src and "unsafe-inline" not in script_src
    assert "frame-ancestors 'none'" in policy


def test_production_settings_pass_the_deploy_check():
    env = {
        **{name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "0",
        "SECRET_KEY": "x" * 20 + "production-secret-key-with-enough-entropy-1234567890",
        "ALLOWED_HOSTS": "backoffice.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_repeated_wrong_passwords_lock_the_login(owner, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        wrong_password(client, owner.username)
    response = client.post(
        LOGIN, {"username": owner.username, "password": "pw-for-tests-1"}, REMOTE_ADDR="10.0.0.1"
    )
    assert response.status_code == 429
    assert b"Too many failed login attempts" in response.content


def test_rotating_forwarded_for_does_not_bypass_the_lock(owner, client):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        wrong_password(client, owner.username, forwarded_for=f"203.0.113.{attempt}")
    response = client.post(
        LOGIN,
        {"username": owner.username, "password": "pw-for-tests-1"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.77",
    )
    assert response.status_code == 429


def test_one_address_guessing_many_usernames_is_locked_too(owner, client):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        wrong_password(client, f"guess-{attempt}")
    response = client.post(
        LOGIN, {"username": owner.username, "password": "pw-for-tests-1"}, REMOTE_ADDR="10.0.0.1"
    )
    assert response.status_code == 429


def test_the_lock_expires_after_the_cool_off(owner, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        wrong_password(client, owner.username)
    cool_off = dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off - dt.timedelta(seconds=1))
    response = client.post(
        LOGIN, {"username": owner.username, "password": "pw-for-tests-1"}, REMOTE_ADDR="10.0.0.1"
    )
    assert response.status_code == 302
