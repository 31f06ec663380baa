from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_q.brokers import get_broker

from customers import queries, tenancy
from customers.models import Business


def dashboard(request):
    if not request.user.has_perm("customers.view_dashboard"):
        return redirect("customers:list")
    business = tenancy.scoped(request, Business).get()
    figures = queries.dashboard_figures(business)
    money = f"{business.currency} {{:,.2f}}"
    kpis = [
        {
            "label": "Customers",
            "value": f"{figures['customers']:,}",
            "hint": f"{figures['new_customers']:,} new",
        },
        {"label": "Orders", "value": f"{figures['orders']:,}", "hint": "completed"},
        {"label": "Revenue", "value": money.format(figures["revenue"]), "hint": "completed orders"},
        {
            "label": "Average order",
            "value": money.format(figures["average_order_value"]) if figures["average_order_value"] else "—",
        },
        {"label": "Blacklisted", "value": f"{figures['blacklisted']:,}", "hint": "customers"},
        {
            "label": "Blocked orders",
            "value": f"{figures['blocked_orders']:,}",
            "hint": "from blacklisted customers",
        },
    ]
    blocked_per_day = queries.blocked_orders_per_day(business)
    peak = max((day["count"] for day in blocked_per_day), default=0)
    for day in blocked_per_day:
        day["percent"] = round(100 * day["count"] / peak)
    return render(
        request,
        "dashboard.html",
        {"kpis": kpis, "days": queries.DASHBOARD_DAYS, "blocked_per_day": blocked_per_day},
    )


@require_POST
def switch_business(request):
    tenancy.switch_business(request, request.POST.get("business"))
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    return redirect(next_url)


class LogoutView(auth_views.LogoutView):
    """Django's logout, which then says so on the login page."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.success(request, "You have been logged out.")
        return response


@login_not_required
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links; a temporary redirect, as the
    static file's hashed name changes with it."""
    return redirect(static("favicon.svg"))


@login_not_required
@never_cache
def healthz(request):
    checks = {"database": _database_ok(), "task_queue": _task_queue_ok()}
    healthy = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if healthy else "unavailable",
            **{k: "ok" if v else "down" for k, v in checks.items()},
        },
        status=200 if healthy else 503,
    )


def _database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _task_queue_ok():
    try:
        broker = get_broker()
        broker.ping()
        broker.queue_size()
        return True
    except Exception:
        return False
