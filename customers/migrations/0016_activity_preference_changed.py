from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0015_points_balance_not_negative"),
    ]

    operations = [
        migrations.AlterField(
            model_name="activity",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Customer created"),
                    ("order_recorded", "Order recorded"),
                    ("order_status_changed", "Order status changed"),
                    ("order_address_changed", "Order address changed"),
                    ("account_linked", "Account linked"),
                    ("contact_updated", "Contact data updated"),
                    ("blacklisted", "Blacklisted"),
                    ("unblacklisted", "Un-blacklisted"),
                    ("note_added", "Note added"),
                    ("tagged", "Tag added"),
                    ("untagged", "Tag removed"),
                    ("deleted", "Deleted"),
                    ("restored", "Restored"),
                    ("merged", "Duplicates merged in"),
                    ("merged_into", "Merged into another customer"),
                    ("merge_undone", "Merge undone"),
                    ("tier_changed", "Tier changed"),
                    ("points_changed", "Points"),
                    ("preference_changed", "Communication preferences changed"),
                ],
                max_length=40,
            ),
        ),
    ]
