"""BUSINESS_ANALYTICS exports: what a business may keep about a person once it holds no
personal data, as aggregates with nothing that identifies them (no ids, names, contacts,
addresses, exact dates)."""

from django.db.models import Count, Min, Sum
from django.db.models.functions import ExtractYear

from customers.models import Order, OrderItem


def business_aggregates(customer):
    orders = Order.objects.filter(customer=customer)
    totals = orders.aggregate(orders=Count("pk"), amount=Sum("amount"), first=Min("placed_at"))
    by_year = list(
        orders.annotate(year=ExtractYear("placed_at"))
        .values("year", "status")
        .annotate(orders=Count("pk"), amount=Sum("amount"))
        .order_by("year", "status")
    )
    categories = list(
        OrderItem.objects.filter(order__customer=customer)
        .values("category")
        .annotate(quantity=Sum("quantity"))
        .order_by("category")
    )
    return {
        "orders": totals["orders"],
        "amount": totals["amount"],
        "first_order_year": totals["first"].year if totals["first"] else None,
        "tier": customer.tier,
        "orders_by_year_and_status": by_year,
        "items_by_category": categories,
    }
