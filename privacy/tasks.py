"""django-q2 entry points of the privacy app: they take ids, load, and call a service."""

from privacy import services


def build_data_export(job_id):
    services.run_data_export(job_id)


def anonymize(job_id):
    services.run_anonymization_job(job_id)


def run_retention():
    return services.run_retention_everywhere()


def expire_data_exports():
    return services.expire_data_exports()
