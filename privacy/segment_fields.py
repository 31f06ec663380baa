"""The segment rule fields the privacy app adds: email_opt_in and sms_opt_in, whether the
customer consented to marketing on that channel. A customer without a preference record has
the defaults, in which marketing is off."""

from django.db.models import Q

from customers.models import Customer
from privacy.models import CommunicationPreference
from segments.rules import Field


def opt_in_field(name, label, column):
    def condition(operator, value, timeframe, context):
        opted_in = Q(
            pk__in=CommunicationPreference.objects.filter(business=context.business, **{column: True}).values(
                "customer_id"
            )
        )
        return opted_in if value else ~opted_in

    def load(business):
        values = dict.fromkeys(Customer.objects.filter(business=business).values_list("pk", flat=True), False)
        values.update(
            CommunicationPreference.objects.filter(business=business).values_list("customer_id", column)
        )
        return values

    return Field(name=name, label=label, type="boolean", condition=condition, load=load)


FIELDS = [
    opt_in_field("email_opt_in", "Email marketing opt-in", "email_marketing"),
    opt_in_field("sms_opt_in", "SMS marketing opt-in", "sms_marketing"),
]
