"""Login throttling, on top of django-axes.

Axes locks a username at one client address after AXES_FAILURE_LIMIT failures there
(AXES_LOCKOUT_PARAMETERS), so the colleagues who share an office's address keep logging in
while one of them mistypes, or someone tries a name that does not exist. The address as a
whole is locked only after AXES_ADDRESS_FAILURE_LIMIT failures for any usernames: that stops
one client from trying a password on every username (spraying).
"""

import math

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render


class LoginThrottle(AxesDatabaseHandler):
    def is_locked(self, request, credentials=None):
        return super().is_locked(request, credentials) or self.address_is_locked(request)

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None or request.axes_locked_out or self.is_whitelisted(request, credentials):
            return
        if self.address_is_locked(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )

    def address_is_locked(self, request):
        attempts = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address, attempt_time__gte=get_cool_off_threshold(request)
        )
        failures = attempts.aggregate(failures=Sum("failures_since_start"))["failures"] or 0
        return failures >= settings.AXES_ADDRESS_FAILURE_LIMIT


def lockout_response(request, original_response, credentials):
    """The page a locked-out login gets: how long to wait, in minutes (not axes' ISO 8601)."""
    minutes = math.ceil(get_cool_off(request).total_seconds() / 60)
    return render(
        request,
        "registration/locked_out.html",
        {"cooloff_minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
