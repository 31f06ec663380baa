"""Pages to find duplicate customers, merge them and undo a merge."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from customers import queries, services
from customers.forms import MergeForm
from customers.merge_registry import MAX_MERGED_AT_ONCE
from customers.models import Customer, DuplicateCandidate, MergeRecord
from customers.tenancy import scoped
from customers.views.customers import run_service
from customers.views.permissions import require_perm

# While a scan is queued or running, the duplicates page reloads itself this often.
SCAN_REFRESH_SECONDS = 3


def duplicates(request):
    candidates = scoped(request, DuplicateCandidate)
    require_perm(request, "customers.merge_customers")
    listed = queries.duplicate_candidates(candidates)
    context = {
        "page_obj": queries.page_of(listed, request.GET.get("page"), queries.DUPLICATES_PER_PAGE),
        "pairs": candidates.count(),
        "scan": queries.last_duplicate_scan(request.business),
        "refresh_seconds": SCAN_REFRESH_SECONDS,
    }
    return render(request, "customers/duplicates.html", context)


@require_POST
def scan_duplicates(request):
    require_perm(request, "customers.merge_customers")
    scoped(request, Customer)
    services.request_duplicate_scan(business=request.business, actor=request.user)
    messages.success(request, "The duplicate scan is queued; this page follows it until it finishes.")
    return redirect("customers:duplicates")


@require_POST
def dismiss_duplicate(request, pk):
    candidate = get_object_or_404(scoped(request, DuplicateCandidate), pk=pk)
    require_perm(request, "customers.merge_customers")
    run_service(request, services.dismiss_duplicate, "Marked as not a duplicate.", candidate=candidate)
    return redirect("customers:duplicates")


def customers_to_merge(request):
    try:
        ids = sorted({int(part) for part in request.GET.get("ids", "").split(",") if part.strip()})
    except ValueError:
        raise Http404("Give the customers as ?ids=1,2") from None
    if not 2 <= len(ids) <= MAX_MERGED_AT_ONCE:
        raise Http404(f"Merge between 2 and {MAX_MERGED_AT_ONCE} customers at once.")
    customers = list(scoped(request, Customer).filter(pk__in=ids).order_by("pk"))
    if len(customers) != len(ids):
        raise Http404("No such customers.")
    return customers


def merge(request):
    customers = customers_to_merge(request)
    require_perm(request, "customers.merge_customers")
    gone = [customer for customer in customers if customer.deleted_at]
    if gone and request.method == "GET":
        messages.error(request, f"{', '.join(f'#{c.pk}' for c in gone)} was merged or deleted already.")
        return redirect("customers:duplicates")
    by_pk = {customer.pk: customer for customer in customers}
    biggest = max(customers, key=lambda customer: (customer.order_count, -customer.pk))
    try:
        survivor = by_pk.get(int(request.POST.get("survivor") or request.GET.get("survivor")), biggest)
    except (TypeError, ValueError):
        survivor = biggest
    merged = [customer for customer in customers if customer.pk != survivor.pk]
    form = MergeForm(request.POST or None, customers=customers, initial={"survivor": survivor.pk})
    if request.method == "POST" and form.is_valid():
        try:
            record = services.merge_customers(
                survivor=survivor,
                merged=merged,
                field_choices=form.field_choices(),
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            names = ", ".join(f"#{pk}" for pk in record.merged_ids)
            messages.success(request, f"Merged {names} into {survivor.display_name}.")
            return redirect("customers:detail", pk=survivor.pk)
    context = {
        "form": form,
        "customers": customers,
        "survivor": survivor,
        "ids": ",".join(str(customer.pk) for customer in customers),
        "undo_days": MergeRecord.UNDO_DAYS,
        **queries.merge_preview(survivor, merged),
    }
    return render(request, "customers/merge.html", context)


def merge_record(request, pk):
    records = scoped(request, MergeRecord).select_related("survivor", "actor", "undone_by")
    record = get_object_or_404(records, pk=pk)
    require_perm(request, "customers.merge_customers")
    return render(request, "customers/merge_record.html", queries.merge_record_details(record))


@require_POST
def undo_merge(request, pk):
    record = get_object_or_404(scoped(request, MergeRecord), pk=pk)
    require_perm(request, "customers.merge_customers")
    run_service(request, services.undo_merge, "The merge is undone.", record=record)
    return redirect("customers:merge_record", pk=record.pk)
