from django.contrib.auth.decorators import permission_required
from django.shortcuts import render


@permission_required("customers.use_segments", raise_exception=True)
def index(request):
    return render(request, "segments/index.html")
