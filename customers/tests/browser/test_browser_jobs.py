import pytest
from playwright.sync_api import expect

from conftest import log_in
from customers import jobs
from customers.models import ExportJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_failed_job_page_shows_the_failure_in_words_and_retry_runs_it_again(page, business, owner):
    job = ExportJob.objects.create(
        business=business,
        actor=owner,
        kind="customers",
        format="csv",
        status="failed",
        failure="The export stopped: the disk is full.",
    )
    log_in(page, owner.username)

    page.goto(f"/customers/export/{job.pk}/")
    expect(page.get_by_role("alert")).to_have_text("The export stopped: the disk is full.")
    page.get_by_role("button", name="Retry").click()

    expect(page.locator(".alert-success")).to_have_text("0 rows exported.")
    expect(page.get_by_role("link", name="Download")).to_be_visible()


def test_cancel_on_a_running_job_ends_it_cancelled_saying_how_far_it_went(page, business, owner):
    job = ExportJob.objects.create(
        business=business,
        actor=owner,
        kind="customers",
        format="csv",
        status="running",
        rows_done=2000,
        total_rows=11200,
    )
    log_in(page, owner.username)

    page.goto(f"/customers/export/{job.pk}/")
    expect(page.locator("[data-job-rows]")).to_have_text("2000 of 11200 rows")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("[data-job-label]")).to_have_text("Cancelling")
    # The worker, at its next chunk, finds the request and stops.
    with pytest.raises(jobs.JobCancelled):
        jobs.report_progress(job, 4000)
    jobs.finish_cancelled(job, "No file was written.")

    outcome = "Cancelled after 4,000 of 11,200 rows. No file was written."
    expect(page.get_by_role("status")).to_have_text(outcome)
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)


def test_the_progress_says_when_it_cannot_be_read_and_keeps_trying(page, business, owner):
    job = ExportJob.objects.create(business=business, actor=owner, kind="customers", format="csv")
    log_in(page, owner.username)
    page.route("**/status/", lambda route: route.fulfill(status=500, body="database is locked"))

    page.goto(f"/customers/export/{job.pk}/")

    expect(page.get_by_role("alert")).to_contain_text(
        "Could not get the job's progress (the server answered 500"
    )
    expect(page.get_by_role("alert")).to_contain_text("Trying again in")
    page.unroute("**/status/")
    ExportJob.objects.filter(pk=job.pk).update(status="running", rows_done=5, total_rows=10)
    expect(page.locator("[data-job-rows]")).to_have_text("5 of 10 rows", timeout=15_000)
    expect(page.get_by_role("alert")).to_be_hidden()
