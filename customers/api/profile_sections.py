"""Keys that other apps add to a customer's profile in the API (`GET customers/{id}`:
segments, communication preferences), so that customers answers with them without
importing those apps. An app registers its key from its AppConfig.ready():

    profile_sections.register("segments", schema=array(SEGMENT), load=segments_by_customer)

where `load(customers)` returns {customer id: value} for every customer given, in a fixed
number of queries however many they are. The key joins the profile's response schema."""

from customers.api.responses import CUSTOMER_PROFILE

SECTIONS = {}


def register(key, *, schema, load):
    """Registering a key again replaces it (ready() may run more than once in tests)."""
    SECTIONS[key] = load
    CUSTOMER_PROFILE["properties"][key] = schema
    if key not in CUSTOMER_PROFILE["required"]:
        CUSTOMER_PROFILE["required"].append(key)


def sections_of(customers):
    """{customer id: {key: value}} of every registered key."""
    sections = {customer.pk: {} for customer in customers}
    for key, load in SECTIONS.items():
        for pk, value in load(customers).items():
            sections[pk][key] = value
    return sections
