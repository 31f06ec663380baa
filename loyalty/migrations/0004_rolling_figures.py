import datetime as dt

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

PERIODS = {"monthly": 30, "quarterly": 91, "yearly": 365}


def fill_rolling_figures(apps, schema_editor):
    """Every live customer's rolling figures as of now, so that the what-if is right before
    the first recalculation."""
    connection = schema_editor.connection
    time = connection.ops.adapt_datetimefield_value
    now = timezone.now()
    sums, params = [], [time(now)]
    for period, days in PERIODS.items():
        since = time(now - dt.timedelta(days=days))
        sums.append(f"SUM(CASE WHEN o.placed_at >= %s THEN o.amount ELSE 0 END) AS spend_{period}")
        sums.append(f"SUM(CASE WHEN o.placed_at >= %s THEN 1 ELSE 0 END) AS visits_{period}")
        params += [since, since]
    columns = [f"{kind}_{period}" for period in PERIODS for kind in ("spend", "visits")]
    params.append(time(now - dt.timedelta(days=max(PERIODS.values()))))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO loyalty_rollingfigures (customer_id, {', '.join(columns)}, computed_at) "
            f"SELECT c.id, {', '.join(f'COALESCE(r.{column}, 0)' for column in columns)}, %s "
            f"FROM customers_customer c LEFT JOIN (SELECT o.customer_id, {', '.join(sums)} "
            "FROM customers_order o WHERE o.status = 'completed' AND o.placed_at >= %s "
            "GROUP BY o.customer_id) r ON r.customer_id = c.id WHERE c.deleted_at IS NULL",
            params,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0021_order_customer_completed_idx"),
        ("loyalty", "0003_points"),
    ]

    operations = [
        migrations.CreateModel(
            name="RollingFigures",
            fields=[
                (
                    "customer",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="rolling_figures",
                        serialize=False,
                        to="customers.customer",
                    ),
                ),
                ("spend_monthly", models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                ("visits_monthly", models.PositiveIntegerField(default=0)),
                ("spend_quarterly", models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                ("visits_quarterly", models.PositiveIntegerField(default=0)),
                ("spend_yearly", models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                ("visits_yearly", models.PositiveIntegerField(default=0)),
                (
                    "computed_at",
                    models.DateTimeField(help_text="The moment the periods end at, when last changed"),
                ),
            ],
        ),
        migrations.RunPython(fill_rolling_figures, migrations.RunPython.noop),
    ]
