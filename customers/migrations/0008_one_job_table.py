"""Imports, exports and the jobs of other apps share one table of jobs (`Job`, with one
table per kind for what its work needs), so a job has one id whatever its kind. The jobs
already there move into it with new ids."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

JOB_FIELDS = [
    "business_id", "actor_id", "status", "total_rows", "rows_done", "failure", "attempts",
    "created_at", "started_at", "finished_at", "heartbeat_at",
]
OWN_FIELDS = {
    "ImportJob": [
        "kind", "file", "original_name", "encoding", "valid_only", "step", "created_count",
        "updated_count", "unchanged_count", "error_count", "preview", "ignored_columns", "error_report",
    ],
    "ExportJob": ["kind", "format", "filters", "file"],
}


def move_jobs_into_one_table(apps, schema_editor):
    for name, fields in OWN_FIELDS.items():
        old, new = apps.get_model("customers", f"{name}BeforeJobs"), apps.get_model("customers", name)
        for job in old.objects.order_by("pk").iterator():
            new.objects.create(**{field: getattr(job, field) for field in JOB_FIELDS + fields})


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0007_audit_entries'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel('ImportJob', 'ImportJobBeforeJobs'),
        migrations.RenameModel('ExportJob', 'ExportJobBeforeJobs'),
        migrations.CreateModel(
            name='Job',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='queued', max_length=10)),
                ('total_rows', models.PositiveIntegerField(blank=True, null=True)),
                ('rows_done', models.PositiveIntegerField(default=0)),
                ('failure', models.TextField(blank=True, help_text='Why the job failed or stopped, in words for the user')),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('heartbeat_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('cancel_requested_at', models.DateTimeField(blank=True, null=True)),
                ('actor', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('business', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.business')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
                'indexes': [
                    models.Index(fields=['business', '-created_at'], name='job_recent_idx'),
                    models.Index(fields=['status', 'heartbeat_at'], name='job_stale_idx'),
                ],
            },
        ),
        migrations.CreateModel(
            name='ExportJob',
            fields=[
                ('job_ptr', models.OneToOneField(auto_created=True, on_delete=django.db.models.deletion.CASCADE, parent_link=True, primary_key=True, serialize=False, to='customers.job')),
                ('kind', models.CharField(choices=[('customers', 'Customers'), ('orders', 'Orders')], max_length=10)),
                ('format', models.CharField(choices=[('csv', 'CSV'), ('xlsx', 'Excel (XLSX)')], max_length=4)),
                ('filters', models.JSONField(blank=True, default=dict, help_text="The customer list's filters")),
                ('file', models.FileField(blank=True, upload_to='exports/%Y/%m/')),
            ],
            options={
                'abstract': False,
            },
            bases=('customers.job',),
        ),
        migrations.CreateModel(
            name='ImportJob',
            fields=[
                ('job_ptr', models.OneToOneField(auto_created=True, on_delete=django.db.models.deletion.CASCADE, parent_link=True, primary_key=True, serialize=False, to='customers.job')),
                ('file', models.FileField(upload_to='imports/%Y/%m/')),
                ('original_name', models.CharField(max_length=255)),
                ('encoding', models.CharField(blank=True, help_text='Text encoding of a CSV file', max_length=20)),
                ('valid_only', models.BooleanField(default=False, help_text='Import the valid rows and skip the others')),
                ('kind', models.CharField(choices=[('customers', 'Customers'), ('orders', 'Orders')], max_length=10)),
                ('step', models.CharField(choices=[('check', 'Check'), ('import', 'Import')], default='check', max_length=10)),
                ('created_count', models.PositiveIntegerField(default=0)),
                ('updated_count', models.PositiveIntegerField(default=0)),
                ('unchanged_count', models.PositiveIntegerField(default=0)),
                ('error_count', models.PositiveIntegerField(default=0)),
                ('preview', models.JSONField(blank=True, default=list, help_text="The first rows' outcomes and every error")),
                ('ignored_columns', models.JSONField(blank=True, default=list)),
                ('error_report', models.FileField(blank=True, upload_to='imports/%Y/%m/')),
            ],
            options={
                'abstract': False,
            },
            bases=('customers.job',),
        ),
        migrations.RunPython(move_jobs_into_one_table, migrations.RunPython.noop),
        migrations.DeleteModel(
            name='ExportJobBeforeJobs',
        ),
        migrations.DeleteModel(
            name='ImportJobBeforeJobs',
        ),
    ]
