from django.contrib.auth.decorators import permission_required
from django.shortcuts import render

from customers.models import Business
from customers.tenancy import scoped
from loyalty import queries


@permission_required("customers.use_loyalty", raise_exception=True)
def index(request):
    return render(request, "loyalty/index.html")


@permission_required("customers.use_loyalty", raise_exception=True)
def clv(request):
    """The lifetime value model of the business: its latest fit and the predicted value per tier."""
    business = scoped(request, Business).get()
    return render(request, "loyalty/clv.html", {"business": business, **queries.clv_page(business)})
