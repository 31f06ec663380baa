"""The status, retry and cancel endpoints that every kind of job offers its progress
component (templates/components/job_progress.html). Each app declares them once for its
job kind and adds their URLs:

    recalculation_jobs = JobEndpoints(
        namespace="loyalty", name="job", job_for=recalculation_for,
        page=lambda job: reverse("loyalty:index"),
    )
    urlpatterns = [..., *recalculation_jobs.urls("jobs/")]

`job_for(request, pk)` returns the request's business's job, or raises Http404 (another
business's job) or PermissionDenied (a job the user may not act on); `page(job)` is where
retry and cancel return to."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from customers import jobs, services


@dataclass(frozen=True)
class JobEndpoints:
    namespace: str
    name: str
    job_for: Callable
    page: Callable

    def urls(self, route):
        """The URL patterns, under `route` ("import/" gives "import/<pk>/status/")."""
        return [
            path(f"{route}<int:pk>/status/", self.status, name=f"{self.name}_status"),
            path(f"{route}<int:pk>/retry/", require_POST(self.retry), name=f"{self.name}_retry"),
            path(f"{route}<int:pk>/cancel/", require_POST(self.cancel), name=f"{self.name}_cancel"),
        ]

    def urls_for(self, job):
        """The URLs a page showing this job passes to the progress component."""
        return {
            f"{action}_url": reverse(f"{self.namespace}:{self.name}_{action}", args=[job.pk])
            for action in ("status", "retry", "cancel")
        }

    def status(self, request, pk):
        return JsonResponse(jobs.progress_json(self.job_for(request, pk)))

    def retry(self, request, pk):
        return self.act(request, services.retry_job, pk)

    def cancel(self, request, pk):
        return self.act(request, services.cancel_job, pk)

    def act(self, request, action, pk):
        job = self.job_for(request, pk)
        try:
            action(job=job, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect(self.page(job))
