"""Settings: the business's own settings, for its owner."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.shortcuts import redirect, render

from customers import forms, services
from customers.models import Business
from customers.tenancy import scoped
from customers.views.permissions import require_perm


def business_settings(request):
    require_perm(request, "customers.change_business")
    business = scoped(request, Business).get()
    if request.method == "POST":
        form = forms.BusinessSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.update_business_settings(business=business, actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Business settings saved.")
                return redirect("business_settings")
    else:
        fields = forms.BusinessSettingsForm.base_fields
        form = forms.BusinessSettingsForm(initial=model_to_dict(business, fields=fields))
    return render(request, "customers/business_settings.html", {"business": business, "form": form})
