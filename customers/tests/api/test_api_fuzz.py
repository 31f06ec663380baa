"""Generated JSON bodies for every API endpoint: each answers a 2xx or 4xx JSON body, never a
500, and every page of the business still answers 200 afterwards.

The examples run inside one test (and its database transaction), so what the accepted ones
stored is what the pages are checked against. derandomize keeps CI reproducible."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers import services
from customers.models import Customer
from customers.tests.services.test_stored_times import assert_the_pages_of_the_business_answer_200

EXTREME_STRINGS = [
    "",
    " ",
    "\ud800",
    "A\udfff",
    "\x00",
    "door\x00dash",
    "x" * 5000,
    "٤٢",
    "٢٠٢٦-01-01T00:00:00Z",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:30:00+14:00",
    "2026-01-01T00:00:00+16:00",
    "2026-11-01T12:00:00Z",
    "1e131073",
    "-1e131073",
    "1e9999999999999999999",
    "NaN",
    "Infinity",
    "1000000000000",
    "99999999999",
    "+1 415 555 0101",
    "completed",
    "blocked",
    "US",
    "USD",
    "a" * 250 + "@example.com",
]
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 10**12, 99999999999, 2**63, 2**64, 10**400]),
    st.floats(),
    st.sampled_from([1e308, -1e308, 5e-324]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.sampled_from(EXTREME_STRINGS), st.text(max_size=20))
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)
EXTRA_KEYS = st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=2)
FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


# Extreme strings twice as often as other values: they are what columns refuse.
ANYTHING = st.one_of(st.sampled_from(EXTREME_STRINGS), st.sampled_from(EXTREME_STRINGS), JSON_VALUES)
VALID_ADDRESS = {
    "street": "1 Main St",
    "street2": "Apt 2",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "12345",
    "country": "US",
    "lat": 39.78,
    "lng": -89.65,
}
VALID_ITEM = {"sku": "P1", "name": "Pizza", "category": "food", "quantity": 2, "price": "21.25"}
VALID_ORDER = {
    "phone": "+1 415 555 0101",
    "first_name": "Ann",
    "last_name": "Lee",
    "email": "ann@example.com",
    "amount": "42.50",
    "currency": "USD",
    "placed_at": "2026-11-01T12:00:00Z",
    "status": "completed",
    "source": "doordash",
    "address": VALID_ADDRESS,
    "items": [VALID_ITEM],
}
PHONES = st.sampled_from(["+1 415 555 0101", "+14155550102", "(415) 555-0103", "4155550104"])


def changes_of(valid):
    """One field of `valid` set to anything (most often: then the others pass), or two."""
    one = st.dictionaries(st.sampled_from(sorted(valid)), ANYTHING, min_size=1, max_size=1)
    return st.one_of(
        one, one, st.dictionaries(st.sampled_from(sorted(valid)), ANYTHING, min_size=1, max_size=2)
    )


NOTHING = st.just({})


def mutated(valid, fixed=NOTHING):
    """`valid` with some fields set to anything, fields of `fixed` and random extra keys."""
    return st.builds(
        lambda changes, fixed, extra: {**valid, **extra, **fixed, **changes},
        changes_of(valid),
        fixed,
        EXTRA_KEYS,
    )


def bodies(mutations, valid_keys):
    """Valid bodies with fields changed (the way to reach the database), bodies of random
    values for every field, and JSON that is not an object."""
    random_objects = st.builds(
        lambda fields, extra: {**extra, **fields},
        st.fixed_dictionaries({}, optional=dict.fromkeys(valid_keys, ANYTHING)),
        EXTRA_KEYS,
    )
    return st.one_of(*mutations, random_objects, JSON_VALUES)


# A new external id every time, so that each accepted body records an order.
NEW_ORDER = st.fixed_dictionaries(
    {"external_id": st.integers(min_value=1, max_value=10**9).map("F-{}".format), "phone": PHONES}
)
ORDERS = bodies(
    [
        mutated(VALID_ORDER, NEW_ORDER),
        mutated(VALID_ORDER, NEW_ORDER),
        mutated(VALID_ORDER, NEW_ORDER),
        st.builds(
            lambda order, address: {**VALID_ORDER, **order, "address": address},
            NEW_ORDER,
            mutated(VALID_ADDRESS),
        ),
        st.builds(
            lambda order, item: {**VALID_ORDER, **order, "items": [item]}, NEW_ORDER, mutated(VALID_ITEM)
        ),
    ],
    ["external_id", *VALID_ORDER],
)


def post(client, url, secret, body):
    response = client.post(url, json.dumps(body), "application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code < 500, (body, response.content[:300])
    assert response["Content-Type"] == "application/json", body
    return response.status_code, response.json()


def test_generated_bodies_never_break_an_endpoint_nor_a_page(business, owner, client, client_for):
    secret = services.create_api_key(business=business, name="Fuzz", actor=None)[1]
    touched = set()

    @settings(FUZZ_SETTINGS, max_examples=200)
    @given(ORDERS)
    def post_orders(body):
        status, answer = post(client, "/api/v1/orders", secret, body)
        if status in (200, 201):
            touched.add(answer["customer_id"])

    post_orders()

    ids = sorted(Customer.objects.filter(business=business).values_list("pk", flat=True))
    assert touched and ids
    known_ids = st.sampled_from(ids)
    valid_merge = {"survivor_id": ids[0], "merged_ids": [ids[1]], "reason": "same person"}
    merges = bodies(
        [
            mutated(valid_merge),
            st.builds(
                lambda survivor, merged, choices: {
                    "survivor_id": survivor,
                    "merged_ids": merged,
                    "reason": "same person",
                    "field_choices": choices,
                },
                known_ids,
                st.lists(known_ids, min_size=1, max_size=3),
                st.dictionaries(st.sampled_from(services.MERGE_FIELDS), known_ids, max_size=2),
            ),
        ],
        [*valid_merge, "field_choices"],
    )

    @settings(FUZZ_SETTINGS, max_examples=100)
    @given(merges)
    def post_merges(body):
        post(client, "/api/v1/customers/merge", secret, body)

    post_merges()

    customer = Customer.objects.live().filter(pk__in=touched).first() or Customer.objects.live().first()
    assert_the_pages_of_the_business_answer_200(client_for(owner), customer)
