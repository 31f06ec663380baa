"""Customers: the list, the profile and what it changes (contact data, blacklist, notes, tags,
refunds, phone verification, delete and restore)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from customers import bulk_actions, forms, profile_panels, queries, services
from customers.filters import list_filter
from customers.models import Customer, Payment, Tag
from customers.replicas import reads_from_replica
from customers.signals import LIST_VIEWED, PROFILE_VIEWED, send_pii_accessed
from customers.tenancy import scoped
from customers.views.permissions import require_perm


def live_customer(request, pk):
    return get_object_or_404(scoped(request, Customer).live(), pk=pk)


def run_service(request, service, success_message, **arguments):
    """Call one service as the user; a ValidationError becomes an error message."""
    try:
        service(actor=request.user, **arguments)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success_message)


def form_error_message(form):
    return " ".join(
        f"{form[field].label}: {' '.join(errors)}" if field in form.fields else " ".join(errors)
        for field, errors in form.errors.items()
    )


def to_profile(customer):
    return redirect("customers:detail", pk=customer.pk)


@reads_from_replica
def customer_list(request):
    customers = scoped(request, Customer)
    require_perm(request, "customers.view_customer")
    # Owners find deleted customers here, to restore them.
    show_deleted = request.GET.get("deleted") == "1" and request.user.has_perm("customers.restore_customer")
    customers = customers.filter(deleted_at__isnull=False) if show_deleted else customers.live()
    customer_filter = list_filter(request, customers)
    page = queries.counted_page(customer_filter.qs, request.GET.get("page"), queries.CUSTOMERS_PER_PAGE)
    send_pii_accessed(
        request,
        customer_ids=[customer.pk for customer in page],
        what=LIST_VIEWED,
        query=request.GET.urlencode(),
    )
    context = {
        "filter": customer_filter,
        "page_obj": page,
        "sort": customer_filter.sort_headers(),
        "show_deleted": show_deleted,
        "bulk_actions": bulk_actions.actions_for(request.user),
    }
    return render(request, "customers/list.html", context)


def customer_detail(request, pk):
    customers = scoped(request, Customer)
    require_perm(request, "customers.view_customer")
    # Owners still open deleted customers, to restore them.
    if not request.user.has_perm("customers.restore_customer"):
        customers = customers.live()
    customer = get_object_or_404(customers, pk=pk)
    send_pii_accessed(request, customer_ids=[customer.pk], what=PROFILE_VIEWED)
    context = queries.customer_profile(
        customer, orders_page=request.GET.get("orders_page"), timeline_page=request.GET.get("timeline_page")
    )
    context.update(
        blacklist_form=forms.BlacklistForm(unblacklisting=customer.is_blacklisted),
        note_form=forms.NoteForm(),
        tag_form=forms.TagForm(),
        refund_form=forms.RefundForm(),
        panels=profile_panels.panels_for(customer, request.user),
    )
    return render(request, "customers/detail.html", context)


def edit_contact(request, pk):
    customer = live_customer(request, pk)
    require_perm(request, "customers.change_customer")
    if request.method == "POST":
        form = forms.ContactForm(request.POST, customer=customer)
        if form.is_valid():
            try:
                services.update_contact(customer=customer, actor=request.user, **form.changes())
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Contact data saved.")
                return to_profile(customer)
    else:
        form = forms.ContactForm(customer=customer)
    return render(request, "customers/edit.html", {"customer": customer, "form": form})


@require_POST
def blacklist(request, pk):
    return change_blacklist(request, pk, services.blacklist_customer, "blacklisted")


@require_POST
def unblacklist(request, pk):
    return change_blacklist(request, pk, services.unblacklist_customer, "removed from the blacklist")


def change_blacklist(request, pk, service, done):
    customer = live_customer(request, pk)
    require_perm(request, "customers.blacklist_customer")
    form = forms.BlacklistForm(request.POST, unblacklisting=service is services.unblacklist_customer)
    if form.is_valid():
        run_service(request, service, f"{customer} is {done}.", customer=customer, **form.cleaned_data)
    else:
        messages.error(request, form_error_message(form))
    return to_profile(customer)


@require_POST
def add_note(request, pk):
    customer = live_customer(request, pk)
    require_perm(request, "customers.add_note")
    form = forms.NoteForm(request.POST)
    if form.is_valid():
        run_service(
            request, services.add_note, "Note added.", customer=customer, body=form.cleaned_data["body"]
        )
    else:
        messages.error(request, form_error_message(form))
    return to_profile(customer)


@require_POST
def add_tag(request, pk):
    customer = live_customer(request, pk)
    require_perm(request, "customers.add_tag")
    form = forms.TagForm(request.POST)
    if form.is_valid():
        name, color = form.cleaned_data["name"], form.cleaned_data["color"] or None
        run_service(
            request, services.tag_customer, f"Tagged “{name}”.", customer=customer, name=name, color=color
        )
    else:
        messages.error(request, form_error_message(form))
    return to_profile(customer)


@require_POST
def remove_tag(request, pk, tag_pk):
    customer = live_customer(request, pk)
    tag = get_object_or_404(scoped(request, Tag), pk=tag_pk)
    require_perm(request, "customers.add_tag")
    run_service(request, services.untag_customer, f"Tag “{tag}” removed.", customer=customer, tag=tag)
    return to_profile(customer)


@require_POST
def refund(request, pk, payment_pk):
    customer = live_customer(request, pk)
    payment = get_object_or_404(scoped(request, Payment), pk=payment_pk, order__customer=customer)
    require_perm(request, "customers.refund_payment")
    form = forms.RefundForm(request.POST)
    if form.is_valid():
        amount = form.cleaned_data["amount"]
        run_service(
            request,
            services.refund_payment,
            f"Refunded {amount} {payment.currency} of payment {payment.transaction_id}.",
            payment=payment,
            source="profile",
            **form.cleaned_data,
        )
    else:
        messages.error(request, form_error_message(form))
    return redirect(f"{reverse('customers:detail', args=[customer.pk])}#orders")


@require_POST
def verify_phone(request, pk):
    customer = live_customer(request, pk)
    require_perm(request, "customers.change_customer")
    run_service(request, services.mark_phone_verified, f"{customer.phone} is verified.", customer=customer)
    return to_profile(customer)


@require_POST
def delete(request, pk):
    customer = live_customer(request, pk)
    require_perm(request, "customers.delete_customer")
    run_service(request, services.delete_customer, f"{customer} was deleted.", customer=customer)
    if request.user.has_perm("customers.restore_customer"):
        return to_profile(customer)
    return redirect("customers:list")


@require_POST
def restore(request, pk):
    customer = get_object_or_404(scoped(request, Customer), pk=pk)
    require_perm(request, "customers.restore_customer")
    run_service(request, services.restore_customer, f"{customer} was restored.", customer=customer)
    return to_profile(customer)
