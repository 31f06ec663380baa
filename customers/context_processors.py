from django.conf import settings
from django.urls import reverse

from customers.tenancy import businesses_for

# (label, url name, permission needed; None means any member)
NAVIGATION = [
    ("Dashboard", "dashboard", "customers.view_dashboard"),
    ("Customers", "customers:list", None),
    ("Segments", "segments:index", "customers.use_segments"),
    ("Loyalty", "loyalty:index", "customers.use_loyalty"),
    ("Privacy", "privacy:index", "customers.use_privacy"),
    ("Settings", "business_settings", "customers.change_business"),
]


def navigation(request):
    context = {"PRODUCT_NAME": settings.PRODUCT_NAME}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    items = []
    for label, url_name, permission in NAVIGATION:
        if permission is None or user.has_perm(permission):
            url = reverse(url_name)
            items.append({"label": label, "url": url, "active": _is_active(request.path, url)})
    if user.is_staff:
        items.append({"label": "Admin", "url": reverse("admin:index"), "active": False})
    # A member's businesses came with their memberships (tenancy.pick_business).
    businesses = getattr(request, "member_businesses", None)
    context.update(
        nav_items=items,
        current_business=request.business,
        switchable_businesses=list(businesses_for(user)) if businesses is None else businesses,
    )
    return context


def _is_active(path, url):
    return path == url if url == "/" else path.startswith(url)
