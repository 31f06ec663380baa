"""What a merge does with each foreign key to Customer, and which profile fields it takes
from the record the user picks. Other apps register their own foreign keys to Customer
with `register()` from their AppConfig.ready()."""

from django.apps import apps

from customers.models import CONTACT_FIELDS

# Profile fields taken, one by one, from whichever record the user picks. The phone is not
# among them: the survivor keeps its phone and the merged phones resolve to it.
MERGE_FIELDS = [field for field in CONTACT_FIELDS if field != "phone"]
# One merge takes at most this many customers, survivor included, from the merge page, the
# admin action and the API alike: the page compares them side by side, and the merge locks
# and rewrites them all in one transaction.
MAX_MERGED_AT_ONCE = 10
MOVE, SPECIAL, KEEP, RECEIVER = "move", "special", "keep", "receiver"
# What a merge does with each foreign key to Customer ("app_label.Model.field"): MOVE
# re-points the rows to the survivor and records their ids, so that an undo moves exactly
# those back; SPECIAL is handled in merge_customers itself; KEEP stays on the merged record
# on purpose; RECEIVER belongs to another app, which moves its rows in a `customers_merged`
# receiver (and back in a `merge_undone` one). A test fails for any foreign key to Customer
# missing here.
MERGE_HANDLING = {
    "customers.Order.customer": MOVE,
    "customers.CustomerAccount.customer": MOVE,
    "customers.Note.customer": MOVE,
    "customers.BlacklistEntry.customer": MOVE,
    "customers.Activity.customer": MOVE,
    "customers.Customer.referred_by": MOVE,
    "customers.Customer.merged_into": MOVE,
    "customers.Dropoff.customer": SPECIAL,
    "customers.Customer_tags.customer": SPECIAL,
    "customers.DuplicateCandidate.customer_a": SPECIAL,
    "customers.DuplicateCandidate.customer_b": SPECIAL,
    "customers.DuplicateDismissal.customer_a": KEEP,
    "customers.DuplicateDismissal.customer_b": KEEP,
    "customers.MergeRecord.survivor": KEEP,
}
DROPOFFS = "customers.Dropoff.customer"


def register(label, handling=MOVE):
    """Say what a merge does with another app's foreign key to Customer, named
    "app_label.Model.field"; called from that app's AppConfig.ready(). SPECIAL is for the
    foreign keys merge_customers itself handles, so another app cannot ask for it."""
    if handling not in (MOVE, KEEP, RECEIVER):
        raise ValueError(f"A foreign key registers as {MOVE}, {KEEP} or {RECEIVER}, not “{handling}”.")
    if len(label.split(".")) != 3:
        raise ValueError(f"“{label}” is not of the form app_label.Model.field.")
    if MERGE_HANDLING.setdefault(label, handling) != handling:
        raise ValueError(f"{label} is registered already, as {MERGE_HANDLING[label]}.")


def model_and_column(label):
    """The model and the column of a foreign key to Customer named "app_label.Model.field"."""
    model_label, field_name = label.rsplit(".", 1)
    model = apps.get_model(model_label)
    return model, model._meta.get_field(field_name).attname
