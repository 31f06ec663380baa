from django.db import migrations, models


def grant_existing_keys_everything(apps, schema_editor):
    # Keys made before scopes could call every endpoint; they keep doing so.
    apps.get_model("customers", "ApiKey").objects.update(scopes=["admin"])


class Migration(migrations.Migration):
    dependencies = [("customers", "0026_webhooks")]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="scopes",
            field=models.JSONField(
                default=list, help_text="What the key may do: names from choices.API_SCOPES."
            ),
        ),
        migrations.RunPython(grant_existing_keys_everything, migrations.RunPython.noop),
        migrations.AddField(
            model_name="business",
            name="api_requests_per_minute",
            field=models.PositiveIntegerField(
                default=1000, help_text="How many API calls each of the business's keys may make a minute."
            ),
        ),
    ]
