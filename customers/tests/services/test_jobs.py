"""The one job mechanism (customers.jobs): cancel, retry, a worker lost, the sweeper on its
schedule only, the progress component and `GET /api/v1/jobs/{id}`."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_q.models import Schedule

from customers import jobs, services, tasks
from customers.bulk import chunks, exports
from customers.models import AuditEntry, Customer, ExportJob, ImportJob, Job

PEOPLE = "phone,first_name\n" + "".join(f"+1415555{n:04d},P{n}\n" for n in range(1, 6))


@pytest.fixture
def people(business):
    for n in range(1, 6):
        services.get_or_create_customer(business=business, phone=f"+1415555{n:04d}", first_name=f"P{n}")


@pytest.fixture
def api_key(business, owner):
    return services.create_api_key(business=business, name="partner", actor=owner)[1]


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def long_ago(settings):
    return timezone.now() - dt.timedelta(seconds=settings.JOB_STALE_SECONDS + 1)


def export_job(business, owner, **fields):
    return ExportJob.objects.create(business=business, actor=owner, kind="customers", format="csv", **fields)


def cancel_at_first_chunk(monkeypatch, owner):
    """Plays the user who clicks Cancel while the job runs, as the worker reports its first chunk."""
    report = jobs.report_progress

    def cancel_then_report(job, rows_done, **kwargs):
        services.cancel_job(job=job, actor=owner)
        report(job, rows_done, **kwargs)

    monkeypatch.setattr(services.exports, "report_progress", cancel_then_report)
    monkeypatch.setattr(services.imports, "report_progress", cancel_then_report)


def test_cancel_stops_a_running_export_at_its_next_chunk_and_says_how_far_it_went(
    people, business, owner, monkeypatch
):
    monkeypatch.setattr(exports, "EXPORT_CHUNK", 2)
    cancel_at_first_chunk(monkeypatch, owner)
    job = export_job(business, owner)

    services.run_export_job(job.pk)

    job.refresh_from_db()
    assert (job.status, job.rows_done, job.file.name) == ("cancelled", 2, "")
    assert job.failure == "Cancelled after 2 of 5 rows. No file was written."


def test_a_cancelled_import_check_stores_nothing_and_says_so(business, owner, monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK_SIZE", 2)
    cancel_at_first_chunk(monkeypatch, owner)

    job = services.start_import(
        business=business, actor=owner, kind="customers", upload=SimpleUploadedFile("p.csv", PEOPLE.encode())
    )

    job.refresh_from_db()
    assert job.status == "cancelled"
    assert job.failure == "Cancelled after 2 of 5 rows. Nothing was imported."
    assert not Customer.objects.exists()


def test_a_cancelled_import_of_valid_rows_keeps_the_chunks_it_stored_and_retry_imports_the_rest(
    business, owner, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(chunks, "CHUNK_SIZE", 2)
    client = client_for(owner)
    client.post(
        "/customers/import/",
        {
            "kind": "customers",
            "encoding": "auto",
            "valid_only": "on",
            "file": SimpleUploadedFile("p.csv", PEOPLE.encode()),
        },
    )
    job = ImportJob.objects.get()
    with monkeypatch.context() as patch:
        cancel_at_first_chunk(patch, owner)
        client.post(f"/customers/import/{job.pk}/confirm/")
    job.refresh_from_db()
    assert (job.status, Customer.objects.count()) == ("cancelled", 2)
    assert job.failure == (
        "Cancelled after 2 of 5 rows. The rows before it stopped were imported; retry to import the rest."
    )

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/customers/import/{job.pk}/retry/")

    job.refresh_from_db()
    assert (job.status, job.created_count, job.unchanged_count, Customer.objects.count()) == ("done", 3, 2, 5)


def test_a_queued_job_is_cancelled_at_once_and_never_runs(people, business, owner):
    job = export_job(business, owner)

    services.cancel_job(job=job, actor=owner)
    services.run_export_job(job.pk)  # the task, delivered after the cancel

    job.refresh_from_db()
    assert (job.status, job.attempts, job.file.name) == ("cancelled", 0, "")
    assert job.failure == "Cancelled before it started: nothing was done."


def test_cancelling_and_retrying_a_job_write_audit_entries_naming_who_did_it(
    people, business, owner, django_capture_on_commit_callbacks
):
    job = export_job(business, owner)

    services.cancel_job(job=job, actor=owner)
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_job(job=job, actor=owner)

    entries = AuditEntry.objects.filter(business=business).order_by("created_at", "id")
    assert [(entry.action, entry.actor, entry.data["job_id"]) for entry in entries] == [
        ("job.cancelled", owner, job.pk),
        ("job.retried", owner, job.pk),
    ]


def test_only_queued_or_running_jobs_can_be_cancelled_and_only_failed_or_lost_ones_retried(
    business, owner, settings
):
    done = export_job(business, owner, status="done")
    running = export_job(business, owner, status="running")

    with pytest.raises(ValidationError, match="queued or running"):
        services.cancel_job(job=done, actor=owner)
    for job in (done, running):
        with pytest.raises(ValidationError, match="failed or cancelled job, or one that lost its worker"):
            services.retry_job(job=job, actor=owner)
    ExportJob.objects.filter(pk=running.pk).update(heartbeat_at=long_ago(settings))
    with pytest.raises(ValidationError, match="queued or running"):
        services.cancel_job(job=running, actor=owner)


def test_a_failed_job_page_shows_the_failure_in_words_and_retry_runs_it_again(
    people, business, owner, client_for, django_capture_on_commit_callbacks
):
    job = export_job(business, owner, status="failed", failure="The disk is full.")
    client = client_for(owner)

    page = client.get(f"/customers/export/{job.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/customers/export/{job.pk}/retry/")

    assert "The disk is full." in page and ">Retry</button>" in page and ">Cancel</button>" not in page
    job.refresh_from_db()
    assert (job.status, job.failure, job.rows_done) == ("done", "", 5)


def test_a_running_job_page_offers_cancel_and_cancelling_from_it_asks_the_worker_to_stop(
    business, owner, client_for
):
    job = export_job(business, owner, status="running", total_rows=10)
    client = client_for(owner)

    page = client.get(f"/customers/export/{job.pk}/").content.decode()
    client.post(f"/customers/export/{job.pk}/cancel/")

    assert ">Cancel</button>" in page and ">Retry</button>" not in page
    job.refresh_from_db()
    assert job.status == "running" and job.cancel_requested_at is not None
    assert client.get(f"/customers/export/{job.pk}/status/").json()["label"] == "Cancelling"


def test_a_job_whose_worker_stopped_reporting_reads_lost_its_worker_and_stops_being_followed(
    business, owner, client_for, settings
):
    job = export_job(business, owner, status="running", heartbeat_at=long_ago(settings))
    client = client_for(owner)

    page = client.get(f"/customers/export/{job.pk}/").content.decode()
    status = client.get(f"/customers/export/{job.pk}/status/").json()

    assert "Lost its worker" in page and ">Retry</button>" in page and "data-job-status-url" not in page
    assert (status["label"], status["finished"]) == ("Lost its worker", True)


def test_looking_at_job_pages_never_sweeps_the_jobs_of_other_businesses(
    business, other_business, owner, make_member, client_for, settings, django_assert_num_queries
):
    mine = export_job(business, owner, status="running")
    stranger = make_member(other_business, "owner")
    theirs = export_job(other_business, stranger, status="running", heartbeat_at=long_ago(settings))
    client = client_for(owner)

    assert client.get(f"/customers/export/{mine.pk}/").status_code == 200
    with django_assert_num_queries(5):  # the session, the user, the membership, the job, permissions
        assert client.get(f"/customers/export/{mine.pk}/status/").status_code == 200

    theirs.refresh_from_db()
    assert (theirs.status, theirs.failure) == ("running", "")


def test_the_sweeper_runs_on_its_schedule_and_fails_stale_jobs_of_every_business(
    business, other_business, owner, settings
):
    stale = export_job(business, owner, status="running", heartbeat_at=long_ago(settings))
    fresh = export_job(other_business, None, status="running")

    tasks.fail_stale_jobs()

    schedule = Schedule.objects.get(name="Fail stale import and export jobs")
    assert (schedule.func, schedule.schedule_type) == ("customers.tasks.fail_stale_jobs", Schedule.MINUTES)
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, stale.failure) == ("failed", jobs.STALE_JOB_MESSAGE)
    assert fresh.status == "running"


def test_the_sweeper_queues_again_once_a_job_no_worker_took_and_it_runs_once(
    people, business, owner, settings, django_capture_on_commit_callbacks
):
    lost = export_job(business, owner, heartbeat_at=long_ago(settings))  # its task went with a killed worker
    waiting = export_job(business, owner)  # its task is in the queue

    with django_capture_on_commit_callbacks(execute=True) as queued:
        tasks.fail_stale_jobs()
        tasks.fail_stale_jobs()  # the next sweep, or another cluster's: the task is queued once
    services.run_export_job(lost.pk)  # the first delivery, if it was only late

    lost.refresh_from_db()
    waiting.refresh_from_db()
    assert len(queued) == 1
    assert (lost.status, lost.attempts, lost.rows_done) == ("done", 1, 5)
    assert (waiting.status, waiting.attempts) == ("queued", 0)


def test_the_sweeper_leaves_a_job_claimed_or_cancelled_since_it_looked_alone(
    people, business, owner, settings, django_capture_on_commit_callbacks, monkeypatch
):
    claimed = export_job(business, owner, heartbeat_at=long_ago(settings))
    cancelled = export_job(business, owner, heartbeat_at=long_ago(settings))
    look = jobs.with_kinds

    def look_then_workers_and_users_act(queryset):
        found = list(look(queryset))
        jobs.claim_job(claimed.pk)
        services.cancel_job(job=cancelled, actor=owner)
        return found

    monkeypatch.setattr(jobs, "with_kinds", look_then_workers_and_users_act)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert jobs.requeue_waiting_jobs() == 0

    assert queued == []
    assert list(Job.objects.order_by("pk").values_list("status", "attempts")) == [
        ("running", 1),
        ("cancelled", 0),
    ]


def test_a_worker_whose_heartbeat_came_too_late_stops_and_leaves_the_job_to_its_retry(
    people, business, owner, settings, monkeypatch
):
    monkeypatch.setattr(exports, "EXPORT_CHUNK", 2)
    job = export_job(business, owner)
    report = jobs.report_progress

    def stall_past_the_lease_then_report(job, rows_done, **kwargs):
        # The worker stalled (a long pause, a slow database): the sweeper failed the job
        # and the user retried it before this heartbeat.
        Job.objects.filter(pk=job.pk).update(heartbeat_at=long_ago(settings))
        tasks.fail_stale_jobs()
        Job.objects.filter(pk=job.pk).update(status="running", attempts=job.attempts + 1)  # the retry's claim
        report(job, rows_done, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(services.exports, "report_progress", stall_past_the_lease_then_report)
        services.run_export_job(job.pk)

    job.refresh_from_db()
    assert (job.status, job.attempts, job.rows_done, job.file.name) == ("running", 2, 0, "")


def test_a_worker_whose_job_was_failed_by_the_sweeper_saves_no_outcome(people, business, owner, settings):
    job = export_job(business, owner)
    jobs.claim_job(job.pk)
    job.refresh_from_db()
    Job.objects.filter(pk=job.pk).update(heartbeat_at=long_ago(settings))
    tasks.fail_stale_jobs()

    jobs.finish_job(job)

    job.refresh_from_db()
    assert (job.status, job.failure) == ("failed", jobs.STALE_JOB_MESSAGE)


def test_the_jobs_api_answers_any_kind_of_job_of_the_business_in_one_shape(
    business, owner, api_key, client, django_assert_num_queries
):
    imported = ImportJob.objects.create(
        business=business,
        actor=owner,
        kind="customers",
        original_name="p.csv",
        file="imports/p.csv",
        status="running",
        rows_done=2000,
        total_rows=11200,
    )
    cancelled_after = "Cancelled after 2,000 of 11,200 rows."
    exported = export_job(business, owner, status="cancelled", failure=cancelled_after)

    with django_assert_num_queries(3):  # the key, its last use (once a minute), the job with its kind
        response = client.get(f"/api/v1/jobs/{imported.pk}", **bearer(api_key))
    cancelled = client.get(f"/api/v1/jobs/{exported.pk}", **bearer(api_key)).json()

    assert response.status_code == 200
    assert response.json() == {
        "id": imported.pk,
        "kind": "import",
        "status": "running",
        "rows_done": 2000,
        "total_rows": 11200,
        "failure": "",
    }
    assert cancelled == {
        "id": exported.pk,
        "kind": "export",
        "status": "failed",
        "rows_done": 0,
        "total_rows": None,
        "failure": cancelled_after,
    }


def test_the_jobs_api_says_failed_for_a_job_that_lost_its_worker(business, owner, api_key, client, settings):
    job = export_job(business, owner, status="running", heartbeat_at=long_ago(settings))

    body = client.get(f"/api/v1/jobs/{job.pk}", **bearer(api_key)).json()

    assert body["status"] == "failed" and "lost its worker" in body["failure"]


def test_the_jobs_api_hides_another_business_jobs_and_needs_a_key(business, other_business, owner, client):
    job = export_job(business, owner, status="done")
    stranger_key = services.create_api_key(business=other_business, name="other", actor=None)[1]

    foreign = client.get(f"/api/v1/jobs/{job.pk}", **bearer(stranger_key))
    missing = client.get("/api/v1/jobs/999999", **bearer(stranger_key))
    anonymous = client.get(f"/api/v1/jobs/{job.pk}")

    assert (foreign.status_code, missing.status_code, anonymous.status_code) == (404, 404, 401)
    assert foreign.json() == {"errors": {"job": [f"No job {job.pk} in this business."]}}


def test_every_job_shares_one_table_so_its_id_names_it_whatever_its_kind(business, owner):
    imported = ImportJob.objects.create(business=business, kind="orders", original_name="o.csv", file="x")
    exported = export_job(business, owner)

    kinds = {job.pk: jobs.kind_of(job).name for job in jobs.with_kinds(Job.objects.all())}

    assert kinds == {imported.pk: "import", exported.pk: "export"}
