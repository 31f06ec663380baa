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
    assert "Too many failed attempts. Try again in 15 minutes." in response.content.decode()


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


def log_in(client, username, address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": "pw-for-tests-1"}, REMOTE_ADDR=address)


def test_failures_for_an_unknown_username_do_not_lock_out_colleagues_at_the_same_address(owner, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        wrong_password(client, "ghost")

    assert log_in(client, owner.username).status_code == 302
    assert log_in(client, "ghost").status_code == 429


def test_a_username_locked_at_one_address_still_logs_in_from_another(owner, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        wrong_password(client, owner.username)

    assert log_in(client, owner.username).status_code == 429
    assert log_in(client, owner.username, address="10.0.0.2").status_code == 302


def test_one_address_failing_for_many_usernames_is_locked_for_every_username(owner, client, settings):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 3 * settings.AXES_FAILURE_LIMIT
    for attempt in range(settings.AXES_ADDRESS_FAILURE_LIMIT - 1):
        wrong_password(client, f"guess-{attempt}")
    assert log_in(client, owner.username).status_code == 302
    client.logout()

    assert wrong_password(client, "guess-last").status_code == 429
    response = log_in(client, owner.username)
    assert response.status_code == 429
    assert "Too many failed attempts." in response.content.decode()
    assert log_in(client, owner.username, address="10.0.0.2").status_code == 302


def test_the_lockout_page_says_how_many_minutes_to_wait(owner, client, settings):
    settings.AXES_COOLOFF_TIME = 0.5
    for _ in range(settings.AXES_FAILURE_LIMIT):
        wrong_password(client, owner.username)

    content = log_in(client, owner.username).content.decode()
    assert "Too many failed attempts. Try again in 30 minutes." in content
    assert "PT30M" not in content


def test_the_lock_expires_after_the_cool_off(owner, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        wrong_password(client, owner.username)
    cool_off = dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off - dt.timedelta(seconds=1))
    response = client.post(
        LOGIN, {"username": owner.username, "password": "pw-for-tests-1"}, REMOTE_ADDR="10.0.0.1"
    )
    assert response.status_code == 302


def test_logging_out_lands_on_the_login_page_saying_so(owner, client):
    log_in(client, owner.username)

    response = client.post("/accounts/logout/", follow=True)

    assert response.redirect_chain[-1][0] == LOGIN
    assert "You have been logged out." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert "You have been logged out." not in client.get(LOGIN).content.decode()
