"""Bulk actions on the customer list's selection (picked rows as `ids=1,2,3`, or the whole
current filter as the list's query string, a segment's members being `segment=<id>`): the
registered actions (customers.bulk_actions), their forms, their result or job."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from customers import bulk_actions, queries, services
from customers.filters import CustomerFilter
from customers.models import BulkActionJob, Customer
from customers.tenancy import scoped
from customers.views.jobs import JobEndpoints


def selection(request):
    """(the selected customers, the selection's query string without `action`)."""
    query = request.GET.copy()
    query.pop("action", None)
    if "ids" in query:
        # One `ids` per checkbox of the list, or `ids=1,2,3` from a link: one parameter.
        query.setlist("ids", [",".join(query.getlist("ids"))])
    customers = queries.customer_list(scoped(request, Customer).live())
    customer_filter = CustomerFilter(query, queryset=customers, request=request)
    return (customer_filter.qs if customer_filter.is_valid() else customers.none()), query.urlencode()


def bulk(request):
    """Pick an action for the selection, fill its form, run it."""
    customers, query = selection(request)
    available = bulk_actions.actions_for(request.user)
    if not available:
        raise PermissionDenied
    action = None
    if request.GET.get("action"):
        action = next((item for item in available if item.key == request.GET["action"]), None)
        if action is None:
            raise Http404("No such action.")
        if action.url:
            return redirect(f"{reverse(action.url)}?{query}")
    form = action.form(request.POST or None, business=request.business) if action and action.form else None
    result = None
    if request.method == "POST" and action and (form is None or form.is_valid()):
        try:
            result, job = services.run_bulk_action(
                business=request.business,
                action=action,
                customers=customers,
                params=form.cleaned_data if form else {},
                actor=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if job is not None:
                return redirect("customers:bulk_job", pk=job.pk)
    context = {
        "count": customers.count(),
        "query": query,
        "actions": available,
        "action": action,
        "form": form,
        "result": result,
        "sync_max": settings.BULK_ACTION_SYNC_MAX,
    }
    return render(request, "customers/bulk.html", context)


def result_message(action, result):
    skipped = ", ".join(f"{reason} ({count:,})" for reason, count in result["skipped"].items())
    message = f"{action.label}: {result['changed']:,} customers changed."
    return f"{message} Skipped: {skipped}." if skipped else message


def bulk_job_for(request, pk):
    job = get_object_or_404(scoped(request, BulkActionJob), pk=pk)
    action = bulk_actions.ACTIONS.get(job.action)
    if action is not None and not request.user.has_perm(action.permission):
        raise PermissionDenied
    return job


bulk_jobs = JobEndpoints(
    namespace="customers",
    name="bulk_job",
    job_for=bulk_job_for,
    page=lambda job: reverse("customers:bulk_job", args=[job.pk]),
)


def bulk_job(request, pk):
    job = bulk_job_for(request, pk)
    action = bulk_actions.ACTIONS.get(job.action)
    context = {
        "job": job,
        "action": action,
        "summary": result_message(action, job.result) if action and job.result else "",
        **bulk_jobs.urls_for(job),
    }
    return render(request, "customers/bulk_job.html", context)
