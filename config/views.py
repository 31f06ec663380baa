import csv

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_q.brokers import get_broker

from config import dashboard as page
from customers import dashboard as customer_dashboard
from customers import replicas, tenancy
from customers.api.auth import ApiError
from customers.api.endpoints import endpoint, json_404
from customers.api.schemas import DAY_PARAMETER
from customers.models import Business
from customers.replicas import reads_from_replica


@reads_from_replica
def dashboard(request):
    """`/`: the owner's dashboard of a date range (`?start=&end=`, local dates, inclusive)."""
    if not request.user.has_perm("customers.view_dashboard"):
        return redirect("customers:list")
    business = tenancy.scoped(request, Business).get()
    errors = {}
    try:
        period = customer_dashboard.parse_period(business, request.GET.get("start"), request.GET.get("end"))
    except ValidationError as error:
        errors, period = error.message_dict, customer_dashboard.default_period(business)
    context = page.page_context(business, period, with_loyalty=request.user.has_perm("customers.use_loyalty"))
    context["errors"] = errors
    context["asked"] = {"start": request.GET.get("start", ""), "end": request.GET.get("end", "")}
    return render(request, "dashboard.html", context, status=400 if errors else 200)


@reads_from_replica
def dashboard_csv(request):
    """`GET /dashboard.csv?start=YYYY-MM-DD&end=YYYY-MM-DD`: the figures as `metric,value` rows."""
    if not request.user.has_perm("customers.view_dashboard"):
        raise PermissionDenied
    business = tenancy.scoped(request, Business).get()
    try:
        period = customer_dashboard.parse_period(business, request.GET.get("start"), request.GET.get("end"))
    except ValidationError as error:
        lines = [
            f"{field}: {message}" for field, messages in error.message_dict.items() for message in messages
        ]
        return HttpResponseBadRequest("\n".join(lines), content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="dashboard-{business.slug}-{period.start}-{period.end}.csv"'
    )
    writer = csv.writer(response, lineterminator="\n")
    writer.writerow(["metric", "value"])
    writer.writerows(page.export_rows(business, period))
    return response


@reads_from_replica
@endpoint(
    "GET",
    "admin",
    summary="The dashboard's figures",
    description="The figures of /dashboard.csv for a date range (inclusive, in the business's "
    "timezone; default the last 30 days).",
    query={
        "start": (DAY_PARAMETER, "First day, YYYY-MM-DD"),
        "end": (DAY_PARAMETER, "Last day, YYYY-MM-DD"),
    },
    responses={200: page.EXPORT_JSON_SCHEMA, 400: None},
)
def dashboard_api(call):
    try:
        period = customer_dashboard.parse_period(
            call.business, call.request.GET.get("start"), call.request.GET.get("end")
        )
    except ValidationError as error:
        raise ApiError(400, error.message_dict) from None
    return 200, page.export_json(call.business, period)


def not_found(request, exception):
    """Paths under /api/ answer the API's JSON 404; pages the 404 page."""
    if request.path.startswith("/api/"):
        return json_404(request)
    return defaults.page_not_found(request, exception)


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
    """Each part's state: the primary database ("ok", "read_only" or "down"), each replica
    with its lag, the task queue. "degraded" (still 200, so load balancers keep the node
    serving the read-only pages) while replicas stand in for the primary (the ORM broker's
    queue is then down with it); otherwise 503 when the primary or the queue is down."""
    health = replicas.check_health()
    task_queue = "ok" if _task_queue_ok() else "down"
    healthy = health.primary == "ok" and task_queue == "ok"
    body = {
        "status": "ok" if healthy else "degraded" if health.degraded else "unavailable",
        "database": health.primary,
        "task_queue": task_queue,
    }
    if health.replica_lags:
        body["replicas"] = {
            alias: {"status": "down"} if lag is None else {"status": "ok", "lag_seconds": round(lag, 3)}
            for alias, lag in health.replica_lags.items()
        }
    return JsonResponse(body, status=200 if healthy or health.degraded else 503)


def _task_queue_ok():
    try:
        broker = get_broker()
        broker.ping()
        broker.queue_size()
        return True
    except Exception:
        return False
