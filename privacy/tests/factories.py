from customers import services as customer_services
from privacy import services


def customer(business, phone="+14155550101", **contact):
    person, _ = customer_services.get_or_create_customer(business=business, phone=phone, **contact)
    return person


def grant(person, *fields, actor=None, source="staff", evidence="Said yes on the phone"):
    return services.update_preferences(
        customer=person, changes=dict.fromkeys(fields, True), source=source, evidence=evidence, actor=actor
    )


def withdraw(person, *fields, actor=None, source="customer_request"):
    return services.update_preferences(
        customer=person, changes=dict.fromkeys(fields, False), source=source, evidence="", actor=actor
    )
