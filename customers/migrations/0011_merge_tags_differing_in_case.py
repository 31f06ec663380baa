from django.db import migrations
from django.db.models.functions import Upper

DEFAULT_TAG_COLOR = "#64748b"


def merge_tags_differing_in_case(apps, schema_editor):
    """Keep the first tag of each name (any case) per business: its duplicates' customers
    move to it, then the duplicates go."""
    Tag = apps.get_model("customers", "Tag")
    Link = apps.get_model("customers", "Customer").tags.through
    keepers = {}
    for tag in Tag.objects.annotate(key=Upper("name")).order_by("business_id", "key", "pk"):
        keeper = keepers.setdefault((tag.business_id, tag.key), tag)
        if keeper.pk == tag.pk:
            continue
        already_tagged = Link.objects.filter(tag_id=keeper.pk).values("customer_id")
        Link.objects.filter(tag_id=tag.pk).exclude(customer_id__in=already_tagged).update(tag_id=keeper.pk)
        Link.objects.filter(tag_id=tag.pk).delete()
        tag.delete()


def reset_colours_that_are_not_colours(apps, schema_editor):
    Tag = apps.get_model("customers", "Tag")
    Tag.objects.exclude(color__regex=r"^#[0-9a-fA-F]{6}$").update(color=DEFAULT_TAG_COLOR)


class Migration(migrations.Migration):
    """Before tags are unique in any case and colours are checked: each in its own transaction,
    so that the constraints are not added while these rows' triggers are pending."""

    dependencies = [
        ("customers", "0010_order_times_in_range"),
    ]

    operations = [
        migrations.RunPython(merge_tags_differing_in_case, migrations.RunPython.noop),
        migrations.RunPython(reset_colours_that_are_not_colours, migrations.RunPython.noop),
    ]
