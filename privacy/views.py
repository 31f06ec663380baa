from django.contrib.auth.decorators import permission_required
from django.shortcuts import render


@permission_required("customers.use_privacy", raise_exception=True)
def index(request):
    return render(request, "privacy/index.html")
