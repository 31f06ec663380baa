"""The audience of a channel and purpose: who may be contacted, and when, in their own
time zone and quiet hours. The clock is explicit."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from customers import services as customer_services
from customers.models import Customer
from privacy import queries, services
from privacy.tests.factories import customer, grant, withdraw

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def ids(business, channel, purpose):
    customers = Customer.objects.filter(business=business)
    return set(queries.audience(customers, channel=channel, purpose=purpose).values_list("pk", flat=True))


def test_only_customers_who_may_be_contacted_are_in_the_audience(business, support):
    ann = customer(business, "+14155550101", email="ann@example.com")
    grant(ann, "email_marketing", "sms_marketing", actor=support)
    opted_out = customer(business, "+14155550102", email="bob@example.com")
    grant(opted_out, "email_marketing", actor=support)
    withdraw(opted_out, "email_marketing")
    never_asked = customer(business, "+14155550103", email="cal@example.com")
    blacklisted = customer(business, "+14155550104", email="dee@example.com")
    grant(blacklisted, "email_marketing", actor=support)
    customer_services.blacklist_customer(customer=blacklisted, reason="fraud", actor=support)
    anonymized = customer(business, "+14155550105", email="eve@example.com")
    grant(anonymized, "email_marketing", actor=support)
    Customer.objects.filter(pk=anonymized.pk).update(anonymized_at=timezone.now())
    deleted = customer(business, "+14155550106", email="fay@example.com")
    grant(deleted, "email_marketing", actor=support)
    Customer.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())
    no_email = customer(business, "+14155550107")
    grant(no_email, "email_marketing", "sms_marketing", actor=support)

    assert ids(business, "email", "marketing") == {ann.pk}
    assert ids(business, "sms", "marketing") == {ann.pk, no_email.pk}
    assert ids(business, "push", "marketing") == set()
    # Never asked: no marketing, but the loyalty updates of the defaults.
    assert never_asked.pk in ids(business, "sms", "loyalty")


def test_a_purpose_needs_its_own_consent_on_top_of_the_channels(business, support):
    ann = customer(business, "+14155550101", email="ann@example.com")
    grant(ann, "email_marketing", actor=support)
    bob = customer(business, "+14155550102", email="bob@example.com")
    grant(bob, "email_marketing", "newsletter_subscription", actor=support)
    withdraw(bob, "promotional_offers")

    assert ids(business, "email", "promotions") == {ann.pk}  # promotions are on by default
    assert ids(business, "email", "newsletter") == {bob.pk}
    assert ids(business, "email", "surveys") == set()


def test_loyalty_updates_are_service_messages_that_need_no_marketing_consent(business, support):
    ann = customer(business, "+14155550101", email="ann@example.com")  # defaults: loyalty updates on
    bob = customer(business, "+14155550102", email="bob@example.com")
    withdraw(bob, "loyalty_updates")

    assert ids(business, "email", "loyalty") == {ann.pk}


def test_push_goes_to_a_storefront_login(business, support):
    ann = customer(business, "+14155550101")
    grant(ann, "push_notifications", actor=support)
    assert ids(business, "push", "marketing") == set()
    customer_services.link_account(business=business, phone=ann.phone, provider="app", external_id="u-42")

    page = queries.audience_page(
        Customer.objects.filter(business=business),
        channel="push",
        purpose="marketing",
        business=business,
        now=NOW,
    )
    assert page["results"] == [{"id": ann.pk, "contact": "app:u-42", "send_after": NOW.isoformat()}]


def test_a_bad_channel_or_purpose_names_the_parameter(business):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        queries.audience(Customer.objects.all(), channel="fax", purpose="gossip")
    assert set(error.value.message_dict) == {"channel", "purpose"}


# Send times ----------------------------------------------------------------------------


def at(zone, *args):
    return dt.datetime(*args, tzinfo=zone).astimezone(UTC)


@pytest.mark.parametrize(
    "local_now, expected",
    [
        ((2026, 6, 15, 23, 30), (2026, 6, 16, 8, 0)),  # in the quiet hours before midnight
        ((2026, 6, 16, 3, 0), (2026, 6, 16, 8, 0)),  # after midnight
        ((2026, 6, 16, 8, 0), (2026, 6, 16, 8, 0)),  # the end is allowed
        ((2026, 6, 16, 21, 59), (2026, 6, 16, 21, 59)),  # before the start: now
    ],
)
def test_quiet_hours_that_wrap_midnight_delay_to_their_end(local_now, expected):
    now = at(NEW_YORK, *local_now)
    sent = queries.send_after(now, NEW_YORK, dt.time(22), dt.time(8))
    assert sent == at(NEW_YORK, *expected)


def test_quiet_hours_within_a_day():
    now = at(NEW_YORK, 2026, 6, 15, 13, 15)
    assert queries.send_after(now, NEW_YORK, dt.time(13), dt.time(14)) == at(NEW_YORK, 2026, 6, 15, 14, 0)
    assert queries.send_after(now, NEW_YORK, dt.time(9), dt.time(13)) == now


def test_the_end_of_quiet_hours_follows_a_dst_change_in_the_customers_zone():
    # 2026-03-08: New York springs forward at 02:00 EST. 08:00 that morning is 12:00 UTC, not 13:00.
    now = at(NEW_YORK, 2026, 3, 7, 23, 0)
    assert now == dt.datetime(2026, 3, 8, 4, 0, tzinfo=UTC)
    assert queries.send_after(now, NEW_YORK, dt.time(22), dt.time(8)) == dt.datetime(
        2026, 3, 8, 12, 0, tzinfo=UTC
    )
    # 2026-11-01: back to EST at 02:00 EDT. 08:00 that morning is 13:00 UTC.
    now = at(NEW_YORK, 2026, 10, 31, 23, 0)
    assert queries.send_after(now, NEW_YORK, dt.time(22), dt.time(8)) == dt.datetime(
        2026, 11, 1, 13, 0, tzinfo=UTC
    )


def test_an_end_the_dst_change_skips_ends_when_the_clocks_jump():
    # 02:30 does not exist on 2026-03-08 in New York: the clocks go from 02:00 EST to 03:00 EDT.
    now = at(NEW_YORK, 2026, 3, 8, 1, 0)
    sent = queries.send_after(now, NEW_YORK, dt.time(23), dt.time(2, 30))
    assert sent == dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT


def test_each_customer_is_timed_in_their_own_zone(business, support):
    business.timezone = "Europe/London"
    business.save()
    tokyo = customer(business, "+14155550101")
    grant(tokyo, "sms_marketing", actor=support)
    services.update_preferences(
        customer=tokyo,
        changes={"timezone": "Asia/Tokyo", "quiet_hours_start": "21:00", "quiet_hours_end": "09:00"},
        source="staff",
        actor=support,
    )
    london = customer(business, "+14155550102")  # the business's zone, no preference zone
    grant(london, "sms_marketing", actor=support)
    services.update_preferences(
        customer=london,
        changes={"quiet_hours_start": "11:00", "quiet_hours_end": "12:30"},
        source="staff",
        actor=support,
    )
    new_york = customer(business, "+14155550103", timezone="America/New_York")
    grant(new_york, "sms_marketing", actor=support)
    services.update_preferences(
        customer=new_york,
        changes={"quiet_hours_start": "22:00", "quiet_hours_end": "09:00"},
        source="staff",
        actor=support,
    )

    page = queries.audience_page(
        Customer.objects.filter(business=business),
        channel="sms",
        purpose="marketing",
        business=business,
        now=NOW,
    )

    # NOW is 21:00 in Tokyo (quiet until 09:00 = 00:00 UTC), 13:00 in London (after its quiet
    # hours: now), 08:00 in New York (quiet until 09:00 EDT = 13:00 UTC).
    assert page["results"] == [
        {"id": tokyo.pk, "contact": tokyo.phone, "send_after": "2026-06-16T00:00:00+00:00"},
        {"id": london.pk, "contact": london.phone, "send_after": NOW.isoformat()},
        {"id": new_york.pk, "contact": new_york.phone, "send_after": "2026-06-15T13:00:00+00:00"},
    ]
    assert page["next"] is None


def test_pages_follow_a_cursor_and_the_csv_has_every_row(business, support):
    people = [customer(business, f"+1415555010{n}") for n in range(5)]
    for person in people:
        grant(person, "sms_marketing", actor=support)
    customers = Customer.objects.filter(business=business)
    options = {"channel": "sms", "purpose": "marketing", "business": business, "now": NOW}

    first = queries.audience_page(customers, limit=2, **options)
    second = queries.audience_page(customers, limit=2, after=int(first["next"]), **options)

    assert [row["id"] for row in first["results"] + second["results"]] == [p.pk for p in people[:4]]
    lines = list(queries.write_audience_csv(customers, **options))
    assert lines[0] == "id,contact,send_after\r\n"
    assert lines[1:] == [f"{p.pk},{p.phone},{NOW.isoformat()}\r\n" for p in people]


def test_the_filtering_is_one_query_whatever_the_audience(business, support, django_assert_num_queries):
    for n in range(6):
        grant(customer(business, f"+1415555010{n}"), "sms_marketing", actor=support)
    with django_assert_num_queries(1):
        queries.audience_page(
            Customer.objects.filter(business=business),
            channel="sms",
            purpose="marketing",
            business=business,
            now=NOW,
        )
