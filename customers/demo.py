"""Realistic demo data for a business, generated chunk by chunk and written in bulk: fast
enough for a million customers, with memory bounded by one chunk. Used by `seed_demo` and
`bench`.

Everything random comes from the `rng` passed in, so the same seed gives the same people.
Phones come from a fixed bijection of a running index that starts at the business's
number of customers, so extending a business brings new numbers; a number that is taken
anyway (by the API or an import) is skipped. Order and account external ids are derived
from the phone, so they are new whenever the phone is.
"""

import math
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from customers import summaries
from customers.bulk.writers import BulkCreateWriter, CopyWriter
from customers.models import (
    Activity,
    BlacklistEntry,
    Business,
    Customer,
    CustomerAccount,
    Dropoff,
    Membership,
    Note,
    Order,
    OrderItem,
    Payment,
    Refund,
    Tag,
    searchable,
)
from customers.normalize import address_key

CHUNK_SIZE = 5000
HISTORY_DAYS = 730
SUPPORTED_COUNTRIES = {"US"}

# Phones ------------------------------------------------------------------------------

AREA_CODES = [
    202,
    206,
    212,
    213,
    214,
    215,
    303,
    305,
    310,
    312,
    404,
    415,
    503,
    512,
    602,
    617,
    619,
    646,
    702,
    713,
    718,
    773,
    818,
    917,
]
# Exchanges 200-999 without the N11 service codes and 555.
EXCHANGES = [exchange for exchange in range(200, 1000) if exchange % 100 != 11 and exchange != 555]
PHONE_SPACE = len(AREA_CODES) * len(EXCHANGES) * 10_000
# index -> index * PHONE_STRIDE mod PHONE_SPACE is a bijection when the two are coprime, so
# consecutive indices give distinct, scattered numbers.
PHONE_STRIDE = 1_000_003
assert math.gcd(PHONE_STRIDE, PHONE_SPACE) == 1


def phone_for_index(index):
    """The index-th demo phone, in E.164."""
    number = (index * PHONE_STRIDE + 7_654_321) % PHONE_SPACE
    prefix, line = divmod(number, 10_000)
    area, exchange = divmod(prefix, len(EXCHANGES))
    return f"+1{AREA_CODES[area]}{EXCHANGES[exchange]}{line:04d}"


def take_phones(business, start, count):
    """`count` phones the business does not have yet, from index `start` on (one query per
    round). Returns them and the next index."""
    phones = []
    while len(phones) < count:
        wanted = count - len(phones)
        candidates = [phone_for_index(index) for index in range(start, start + wanted)]
        start += wanted
        taken = taken_phones(business, candidates)
        phones += [phone for phone in candidates if phone not in taken]
    return phones, start


# Each phone of the list looked up in the (business, phone) index, one lookup per phone (a
# LATERAL subquery cannot be turned into a join). A `phone IN (...)` list of a chunk's phones
# may be planned on the phone's trigram index, which answers `=` too but takes seconds for
# thousands of phones; and with statistics from when the business was smaller, an EXISTS was
# planned as a join filter over every customer of the business (5,000 phones times 300,000
# customers a chunk).
TAKEN_PHONES_SQL = f"""
    SELECT wanted.phone FROM unnest(%s::varchar[]) AS wanted (phone),
    LATERAL (
        SELECT 1 FROM {Customer._meta.db_table} c
        WHERE c.business_id = %s AND c.phone = wanted.phone LIMIT 1
    ) AS taken
"""


def taken_phones(business, phones):
    """The phones among `phones` that customers of the business have."""
    if connection.vendor != "postgresql":
        existing = Customer.objects.filter(business=business, phone__in=phones)
        return set(existing.values_list("phone", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(TAKEN_PHONES_SQL, [phones, business.pk])
        return {phone for (phone,) in cursor.fetchall()}


# Reference data ----------------------------------------------------------------------

NAMES = {
    "en": (
        [
            "James",
            "Mary",
            "Robert",
            "Patricia",
            "John",
            "Jennifer",
            "Michael",
            "Linda",
            "David",
            "Elizabeth",
            "William",
            "Barbara",
            "Richard",
            "Susan",
            "Joseph",
            "Jessica",
            "Thomas",
            "Sarah",
            "Chris",
            "Karen",
            "Daniel",
            "Emily",
            "Matthew",
            "Ashley",
            "Anthony",
            "Zoë",
            "Ethan",
            "Olivia",
            "Noah",
            "Chloë",
            "Łukasz",
            "Agnieszka",
            "Aoife",
            "Siobhán",
            "Wei",
            "Priya",
            "Kenji",
            "Fatima",
            "Omar",
            "Grace",
        ],
        [
            "Smith",
            "Johnson",
            "Williams",
            "Brown",
            "Jones",
            "Miller",
            "Davis",
            "Wilson",
            "Anderson",
            "Taylor",
            "Thomas",
            "Moore",
            "Jackson",
            "Martin",
            "Lee",
            "Thompson",
            "White",
            "Harris",
            "Clark",
            "Lewis",
            "Robinson",
            "Walker",
            "Young",
            "Allen",
            "King",
            "Wright",
            "Scott",
            "Green",
            "Baker",
            "Adams",
            "Nguyen",
            "Kim",
            "Patel",
            "Chen",
            "Kowalski",
            "Wiśniewski",
            "O'Brien",
            "McAllister",
            "Brontë",
            "Murphy",
        ],
    ),
    "es": (
        [
            "José",
            "María",
            "Jesús",
            "Sofía",
            "Lucía",
            "Martín",
            "Andrés",
            "Valentina",
            "Camila",
            "Mateo",
            "Alejandro",
            "Ximena",
            "Diego",
            "Isabel",
            "Raúl",
            "Inés",
            "Óscar",
            "Ángel",
            "Carmen",
            "Javier",
        ],
        [
            "García",
            "Rodríguez",
            "Martínez",
            "Hernández",
            "López",
            "González",
            "Pérez",
            "Sánchez",
            "Ramírez",
            "Torres",
            "Flores",
            "Rivera",
            "Gómez",
            "Díaz",
            "Cruz",
            "Morales",
            "Reyes",
            "Gutiérrez",
            "Ortiz",
            "Muñoz",
            "Jiménez",
            "Castillo",
            "Núñez",
            "Peña",
        ],
    ),
    "fr": (
        [
            "François",
            "Renée",
            "Hélène",
            "Élodie",
            "Jérôme",
            "Amélie",
            "Céline",
            "Benoît",
            "Anaïs",
            "Loïc",
            "Gaëlle",
            "Noël",
            "Chloé",
            "Léa",
            "Théo",
        ],
        [
            "Dubois",
            "Lefèvre",
            "Moreau",
            "Girard",
            "Fontaine",
            "Chevalier",
            "Bérard",
            "Lemaître",
            "Rousseau",
            "Fournier",
            "Dupré",
            "Lefebvre",
            "Mercier",
            "Gauthier",
            "Bélanger",
        ],
    ),
    "de": (
        [
            "Jürgen",
            "Jörg",
            "Björn",
            "Käthe",
            "Günther",
            "Lena",
            "Lukas",
            "Anja",
            "Matthias",
            "Sören",
            "Uwe",
            "Jana",
            "Felix",
            "Mia",
            "Stefan",
        ],
        [
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weiß",
            "Schröder",
            "Köhler",
            "Becker",
            "Hoffmann",
            "Schäfer",
            "Krüger",
            "Wagner",
            "Zimmermann",
            "Groß",
            "Bauer",
        ],
    ),
}
LANGUAGES, LANGUAGE_WEIGHTS = ["en", "es", "fr", "de"], [76, 17, 4, 3]
NICKNAMES = {
    "Robert": "Bob",
    "William": "Bill",
    "Elizabeth": "Liz",
    "Michael": "Mike",
    "Jennifer": "Jen",
    "Alejandro": "Alex",
    "Joseph": "Joe",
    "Daniel": "Dan",
    "Anthony": "Tony",
    "Łukasz": "Luke",
    "José": "Pepe",
    "Jesús": "Chuy",
    "Matthias": "Matze",
}
EMAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com"]
ASCII_FALLBACKS = str.maketrans({"ł": "l", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe", "đ": "d"})

# (city, state, timezone, zip prefix, lat, lng)
CITIES = [
    ("New York", "NY", "America/New_York", "100", 40.7128, -74.0060),
    ("Brooklyn", "NY", "America/New_York", "112", 40.6782, -73.9442),
    ("Los Angeles", "CA", "America/Los_Angeles", "900", 34.0522, -118.2437),
    ("San Francisco", "CA", "America/Los_Angeles", "941", 37.7749, -122.4194),
    ("San Diego", "CA", "America/Los_Angeles", "921", 32.7157, -117.1611),
    ("Chicago", "IL", "America/Chicago", "606", 41.8781, -87.6298),
    ("Houston", "TX", "America/Chicago", "770", 29.7604, -95.3698),
    ("Austin", "TX", "America/Chicago", "787", 30.2672, -97.7431),
    ("Dallas", "TX", "America/Chicago", "752", 32.7767, -96.7970),
    ("Seattle", "WA", "America/Los_Angeles", "981", 47.6062, -122.3321),
    ("Portland", "OR", "America/Los_Angeles", "972", 45.5152, -122.6784),
    ("Boston", "MA", "America/New_York", "021", 42.3601, -71.0589),
    ("Miami", "FL", "America/New_York", "331", 25.7617, -80.1918),
    ("Atlanta", "GA", "America/New_York", "303", 33.7490, -84.3880),
    ("Denver", "CO", "America/Denver", "802", 39.7392, -104.9903),
    ("Phoenix", "AZ", "America/Phoenix", "850", 33.4484, -112.0740),
    ("Las Vegas", "NV", "America/Los_Angeles", "891", 36.1699, -115.1398),
    ("Philadelphia", "PA", "America/New_York", "191", 39.9526, -75.1652),
    ("Washington", "DC", "America/New_York", "200", 38.9072, -77.0369),
]
STREET_NAMES = [
    "Main",
    "Oak",
    "Pine",
    "Maple",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Sunset",
    "Highland",
    "Mission",
    "Valencia",
    "Broadway",
    "Market",
    "Church",
    "Spring",
    "Union",
]
STREET_SUFFIXES = ["St", "Ave", "Blvd", "Rd", "Ln", "Dr", "Way", "Ct"]

# (sku, name, category, price in cents)
PRODUCTS = [
    ("DR-LAT", "Latte", "drinks", 475),
    ("DR-CAP", "Cappuccino", "drinks", 450),
    ("DR-CBR", "Cold Brew", "drinks", 425),
    ("DR-FLW", "Flat White", "drinks", 475),
    ("DR-MAT", "Matcha Latte", "drinks", 525),
    ("DR-CHA", "Chai Latte", "drinks", 495),
    ("DR-DRP", "Drip Coffee", "drinks", 295),
    ("DR-OJ", "Fresh Orange Juice", "drinks", 550),
    ("BK-CRO", "Croissant", "bakery", 375),
    ("BK-PAC", "Pain au Chocolat", "bakery", 425),
    ("BK-MUF", "Blueberry Muffin", "bakery", 350),
    ("BK-CIN", "Cinnamon Roll", "bakery", 450),
    ("BK-BAN", "Banana Bread", "bakery", 395),
    ("BK-BAG", "Everything Bagel", "bakery", 325),
    ("FD-BUR", "Breakfast Burrito", "food", 1095),
    ("FD-AVO", "Avocado Toast", "food", 995),
    ("FD-CLB", "Turkey Club", "food", 1250),
    ("FD-PAN", "Caprese Panini", "food", 1150),
    ("FD-QUI", "Quinoa Bowl", "food", 1395),
    ("FD-WRP", "Chicken Caesar Wrap", "food", 1175),
    ("MR-TOT", "Canvas Tote", "merch", 1800),
    ("MR-MUG", "Travel Mug", "merch", 2400),
    ("MR-BEA", "Whole Beans 1 lb", "merch", 1699),
    ("MR-TEE", "Logo T-Shirt", "merch", 2800),
    ("MR-GFT", "Gift Card", "merch", 2500),
]
CATEGORY_WEIGHTS = {"drinks": 9, "bakery": 6, "food": 4, "merch": 1}
PRODUCT_WEIGHTS = [CATEGORY_WEIGHTS[category] for _, _, category, _ in PRODUCTS]

SOURCES, SOURCE_WEIGHTS = ["doordash", "ubereats", "web", "ios", "pos"], [25, 20, 20, 15, 20]
SOURCE_PREFIXES = {"doordash": "DD", "ubereats": "UE", "web": "WEB", "ios": "IOS", "pos": "POS"}
PROVIDERS, PROVIDER_WEIGHTS = ["shopify", "web", "ios", "android", "guest"], [30, 25, 20, 15, 10]

TAGS = {
    "VIP": "#ca8a04",
    "Wholesale": "#2563eb",
    "Allergy: nuts": "#dc2626",
    "Late payer": "#ea580c",
    "Newsletter": "#16a34a",
}
VIP_ORDER_COUNT = 25

Reason = BlacklistEntry.Reason
BLACKLIST_NOTES = {
    Reason.FALSE_CLAIMS: "Claimed missing items on 4 of the last 5 orders; courier photos show delivery.",
    Reason.SUPPORT_ABUSE: "Abusive language towards support on repeated calls.",
    Reason.FRAUD: "Chargebacks on three cards within a week.",
    Reason.SAFETY: "Courier reported a threat at the door.",
    Reason.OTHER: "Asked to be blocked from ordering.",
}
UNBLACKLIST_NOTE = "Reviewed with the customer; ordering allowed again."
# How storefronts are paid, and the providers behind each way.
PAYMENT_METHODS, PAYMENT_METHOD_WEIGHTS = (
    [Payment.Method.CARD, Payment.Method.WALLET, Payment.Method.CASH_ON_DELIVERY, Payment.Method.VOUCHER],
    [60, 22, 14, 4],
)
PAYMENT_PROVIDERS = {
    Payment.Method.CARD: ["stripe", "adyen"],
    Payment.Method.WALLET: ["apple_pay", "paypal"],
    Payment.Method.CASH_ON_DELIVERY: [""],
    Payment.Method.VOUCHER: ["giftcard"],
}
REFUND_REASONS = [
    "Items missing from the bag",
    "Arrived cold",
    "Delivered an hour late",
    "Wrong order delivered",
    "Charged twice",
]
NOTE_BODIES = [
    "Prefers oat milk; please mark the cup.",
    "Called about a late delivery, offered a free drink on the next order.",
    "Door code 4821, leave with the concierge.",
    "Asked about wholesale pricing for the office.",
    "Allergic to nuts; double-check bakery items.",
    "Gave great feedback on the new cold brew.",
    "Refund issued for a spilled latte.",
    "Wants receipts sent to the work email.",
]


# Business and staff ------------------------------------------------------------------


def business_name(slug):
    return f"{slug.replace('-', ' ').replace('_', ' ').title()} Coffee Co."


def get_or_create_business(slug):
    business, _ = Business.objects.get_or_create(
        slug=slug, defaults={"name": business_name(slug), "default_country": "US", "currency": "USD"}
    )
    return business


def staff_username(business, role):
    return f"{business.slug}-{role}"


@transaction.atomic
def ensure_staff(business, password):
    """Users SLUG-owner, SLUG-support and SLUG-compliance holding that role in the business,
    with this password (None: no usable password). Re-running resets both."""
    User = get_user_model()
    users = {}
    for role in Membership.Role:
        user, _ = User.objects.get_or_create(username=staff_username(business, role.value))
        user.is_staff = user.is_active = True
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
        Membership.objects.update_or_create(user=user, business=business, defaults={"role": role})
        users[role.value] = user
    return users


def ensure_tags(business):
    tags = {}
    for name, color in TAGS.items():
        tags[name], _ = Tag.objects.get_or_create(business=business, name=name, defaults={"color": color})
    return tags


# Generation --------------------------------------------------------------------------


@dataclass
class Summary:
    customers: int = 0
    orders: int = 0
    seconds: float = 0.0
    rows: dict = field(default_factory=dict)


def generate(business, *, customers, orders, rng, actor=None, progress=None, chunk_size=CHUNK_SIZE):
    """Add `customers` customers with `orders` orders in all to the business, one chunk
    (one transaction) at a time. `actor` (the support user) signs blacklist entries and
    notes; `progress(done, total)` is called after each chunk."""
    if business.default_country not in SUPPORTED_COUNTRIES:
        raise ValueError(f"The demo data is US data; {business} uses {business.default_country}.")
    started = time.perf_counter()
    writer = CopyWriter() if connection.vendor == "postgresql" else BulkCreateWriter()
    tags = ensure_tags(business)
    next_index = Customer.objects.filter(business=business).count()
    # Memory follows the rows of a chunk: with many orders per customer, fewer customers per chunk.
    if orders > 3 * customers:
        chunk_size = max(1, chunk_size * 3 * customers // orders)
    summary = Summary()
    while summary.customers < customers:
        size = min(chunk_size, customers - summary.customers)
        chunk_orders = round(orders * (summary.customers + size) / customers) - summary.orders
        phones, next_index = take_phones(business, next_index, size)
        chunk = ChunkBuilder(business, rng, timezone.now(), actor, tags).build(phones, chunk_orders)
        with transaction.atomic():
            chunk.write(writer)
        for name, rows in chunk.tables().items():
            summary.rows[name] = summary.rows.get(name, 0) + len(rows)
        summary.customers += size
        summary.orders += chunk_orders
        if progress:
            progress(summary.customers, customers)
    # The chunks wrote their orders in bulk: the dashboard's summaries are rebuilt from them.
    with transaction.atomic():
        summaries.rebuild(business, report=False)
    summary.seconds = time.perf_counter() - started
    return summary


class Chunk:
    """The rows of one chunk as dicts of column values. A foreign key to a row of the same
    chunk holds that row's position in its list until the parent rows are written."""

    def __init__(self):
        self.customers, self.accounts, self.dropoffs, self.orders, self.items = [], [], [], [], []
        self.payments, self.refunds = [], []
        self.blacklist_entries, self.notes, self.activities, self.tag_links = [], [], [], []

    def tables(self):
        return {
            "customers": self.customers,
            "accounts": self.accounts,
            "dropoffs": self.dropoffs,
            "orders": self.orders,
            "order items": self.items,
            "payments": self.payments,
            "refunds": self.refunds,
            "blacklist entries": self.blacklist_entries,
            "notes": self.notes,
            "activities": self.activities,
            "tag links": self.tag_links,
        }

    def write(self, writer):
        customer_ids = writer.insert(Customer, self.customers, returning_ids=True)
        children = [
            self.accounts,
            self.dropoffs,
            self.orders,
            self.blacklist_entries,
            self.notes,
            self.activities,
            self.tag_links,
        ]
        for rows in children:
            for row in rows:
                row["customer_id"] = customer_ids[row["customer_id"]]
        writer.insert(CustomerAccount, self.accounts)
        dropoff_ids = writer.insert(Dropoff, self.dropoffs, returning_ids=True)
        for row in self.orders:
            row["dropoff_id"] = dropoff_ids[row["dropoff_id"]]
            if row["original_dropoff_id"] is not None:
                row["original_dropoff_id"] = dropoff_ids[row["original_dropoff_id"]]
        order_ids = writer.insert(Order, self.orders, returning_ids=True)
        for row in self.items:
            row["order_id"] = order_ids[row["order_id"]]
        writer.insert(OrderItem, self.items)
        for row in self.payments:
            row["order_id"] = order_ids[row["order_id"]]
        payment_ids = writer.insert(Payment, self.payments, returning_ids=True)
        for row in self.refunds:
            row["payment_id"] = payment_ids[row["payment_id"]]
        writer.insert(Refund, self.refunds)
        writer.insert(BlacklistEntry, self.blacklist_entries)
        note_ids = writer.insert(Note, self.notes, returning_ids=True)
        for row in self.activities:
            if "note_position" in row["data"]:
                row["data"] = {"note_id": note_ids[row["data"]["note_position"]]}
        writer.insert(Activity, self.activities)
        writer.insert(Customer.tags.through, self.tag_links)


class ChunkBuilder:
    """Builds the rows of one chunk of customers; all randomness from `rng`."""

    def __init__(self, business, rng, now, actor, tags):
        self.business_id = business.pk
        self.currency = business.currency
        self.country = business.default_country
        self.rng = rng
        self.now = now
        self.actor_id = actor.pk if actor else None
        self.tags = tags
        self.chunk = Chunk()

    def build(self, phones, order_count):
        rng = self.rng
        people = []
        for position, phone in enumerate(phones):
            if position and rng.random() < 0.02:
                people.append(self.duplicate_of(people[rng.randrange(position)], phone))
            else:
                people.append(self.new_person(phone))
        for position, person in enumerate(people):
            self.add_accounts(position, person)
            self.add_dropoffs(position, person)
            self.add_blacklist_history(position, person)
        self.add_orders(people, order_count)
        for position, person in enumerate(people):
            self.add_customer(position, person)
        return self.chunk

    # People

    def new_person(self, phone):
        rng = self.rng
        language = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]
        first_names, last_names = NAMES[language]
        first, last = rng.choice(first_names), rng.choice(last_names)
        born = None
        if rng.random() < 0.7:
            born = (self.now - timedelta(days=rng.randrange(18 * 365, 80 * 365))).date()
        return {
            "phone": phone,
            "first_name": first,
            "last_name": last,
            "preferred_name": NICKNAMES.get(first, "") if rng.random() < 0.3 else "",
            "email": self.email_for(first, last) if rng.random() < 0.88 else "",
            "language": language,
            "date_of_birth": born,
            "created_at": self.now - timedelta(seconds=rng.random() * HISTORY_DAYS * 86400),
            "city": rng.choice(CITIES),
        }

    def duplicate_of(self, original, phone):
        """The same person again under a second phone, for merging: with a typo in the
        name, or with the same name and email."""
        rng = self.rng
        person = self.new_person(phone)
        for name in ("first_name", "last_name", "language", "date_of_birth", "city"):
            person[name] = original[name]
        if original["email"] and rng.random() < 0.5:
            person["email"] = original["email"]
        else:
            name = rng.choice(["first_name", "last_name"])
            person[name] = self.typo(person[name])
            person["email"] = self.email_for(person["first_name"], person["last_name"])
        return person

    def typo(self, name):
        if len(name) < 4:
            return name + name[-1]
        at = self.rng.randrange(1, len(name) - 2)
        kind = self.rng.choice(["swap", "drop", "double"])
        if kind == "swap":
            return name[:at] + name[at + 1] + name[at] + name[at + 2 :]
        if kind == "drop":
            return name[:at] + name[at + 1 :]
        return name[:at] + name[at] + name[at:]

    def email_for(self, first, last):
        rng = self.rng
        first, last = ascii_name(first), ascii_name(last)
        local = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}{last[0]}", f"{first}_{last}"])
        # The demo has few names; a number from a wide range keeps two people from sharing
        # an address by chance, as they rarely do, so "same email" finds the planted duplicates.
        return f"{local}{rng.randrange(1, 10_000)}@{rng.choice(EMAIL_DOMAINS)}"

    # Rows

    def add_accounts(self, position, person):
        """A storefront account for ~60%; its email joins the search text."""
        rng = self.rng
        emails = [person["email"]]
        if rng.random() < 0.6:
            provider = rng.choices(PROVIDERS, PROVIDER_WEIGHTS)[0]
            email = person["email"]
            if not email or rng.random() < 0.3:
                email = self.email_for(person["first_name"], person["last_name"])
            emails.append(email)
            national = person["phone"][2:]
            linked_at = person["created_at"] + timedelta(minutes=rng.randrange(60 * 24 * 30))
            self.chunk.accounts.append(
                {
                    "business_id": self.business_id,
                    "customer_id": position,
                    "email": email,
                    "provider": provider,
                    "external_id": "" if provider == "guest" else f"{provider}-{national}",
                    "phone": f"({national[:3]}) {national[3:6]}-{national[6:]}",
                    "created_at": min(linked_at, self.now),
                }
            )
        person["search_text"] = searchable(
            person["first_name"], person["last_name"], person["preferred_name"], *emails
        )

    def add_dropoffs(self, position, person):
        """1-3 addresses, mostly in the person's city; the first is the default."""
        rng, chunk = self.rng, self.chunk
        person["dropoff_positions"] = []
        street_numbers = rng.sample(range(1, 9999), 3)
        for number in range(rng.choices([1, 2, 3], [60, 30, 10])[0]):
            city = person["city"] if number == 0 or rng.random() < 0.7 else rng.choice(CITIES)
            city_name, state, _, zip_prefix, lat, lng = city
            street = f"{street_numbers[number]} {rng.choice(STREET_NAMES)} {rng.choice(STREET_SUFFIXES)}"
            address = {
                "street": street,
                "street2": f"Apt {rng.randrange(1, 40)}{rng.choice('ABCD')}" if rng.random() < 0.25 else "",
                "city": city_name,
                "state": state,
                "postal_code": f"{zip_prefix}{rng.randrange(100):02d}",
                "country": self.country,
            }
            added_at = person["created_at"] + timedelta(days=number * rng.randrange(200))
            person["dropoff_positions"].append(len(chunk.dropoffs))
            chunk.dropoffs.append(
                {
                    **address,
                    "business_id": self.business_id,
                    "customer_id": position,
                    "address_key": address_key(address),
                    "kind": Dropoff.Kind.SHIPPING,
                    "is_default": number == 0,
                    "lat": Decimal(f"{lat + rng.uniform(-0.05, 0.05):.6f}"),
                    "lng": Decimal(f"{lng + rng.uniform(-0.05, 0.05):.6f}"),
                    "created_at": min(added_at, self.now),
                }
            )

    def add_blacklist_history(self, position, person):
        """~1% blacklisted now (a quarter of them after an earlier blacklisted spell), ~0.3%
        only in the past. Orders placed while blacklisted are blocked."""
        rng = self.rng
        person["blocked_periods"] = []
        roll = rng.random()
        person["is_blacklisted"] = roll < 0.01
        if roll >= 0.013:
            return
        created, span = person["created_at"], (self.now - person["created_at"]).total_seconds()
        if person["is_blacklisted"] and rng.random() < 0.75:
            moments = [created + timedelta(seconds=span * rng.uniform(0.2, 1.0))]
        else:
            count = 3 if person["is_blacklisted"] else 2
            moments = sorted(created + timedelta(seconds=span * rng.random()) for _ in range(count))
        for number, moment in enumerate(moments):
            if number % 2 == 0:
                action, reason = BlacklistEntry.Action.BLACKLISTED, rng.choice(Reason.values)
                note = BLACKLIST_NOTES[reason]
                ends = moments[number + 1] if number + 1 < len(moments) else self.now + timedelta(days=1)
                person["blocked_periods"].append((moment, ends))
            else:
                action, reason, note = BlacklistEntry.Action.UNBLACKLISTED, Reason.OTHER, UNBLACKLIST_NOTE
            self.chunk.blacklist_entries.append(
                {
                    "business_id": self.business_id,
                    "customer_id": position,
                    "action": action,
                    "reason": reason,
                    "note": note,
                    "actor_id": self.actor_id,
                    "created_at": moment,
                }
            )
            self.add_activity(position, action, moment, self.actor_id, {"reason": reason, "note": note})

    def add_orders(self, people, order_count):
        """Most people came with a first order (which created them); the remaining orders
        are long-tailed: each person's share comes from a Pareto distribution scaled by
        how long they have been a customer, so a few order very often and many only once."""
        rng = self.rng
        history = HISTORY_DAYS * 86400
        cumulative, total = [], 0.0
        for person in people:
            tenure = (self.now - person["created_at"]).total_seconds() / history
            total += rng.paretovariate(1.3) * (0.05 + tenure)
            cumulative.append(total)
            person["orders"] = 0
            person["counted"] = []  # (placed_at, cents) of completed orders
        first_buyers = [position for position in range(len(people)) if rng.random() < 0.85][:order_count]
        for position in first_buyers:
            self.add_order(position, people[position], first=True)
        repeat_count = order_count - len(first_buyers) if people else 0
        for position in rng.choices(range(len(people)), cum_weights=cumulative, k=repeat_count):
            self.add_order(position, people[position])

    def add_order(self, position, person, first=False):
        rng, chunk = self.rng, self.chunk
        person["orders"] += 1
        created = person["created_at"]
        placed_at = created if first else created + (self.now - created) * rng.random()
        roll = rng.random()
        if any(start <= placed_at < end for start, end in person["blocked_periods"]):
            status = Order.Status.BLOCKED
        elif roll < 0.03:
            status = Order.Status.REFUNDED
        elif roll < 0.05:
            status = Order.Status.CANCELLED
        elif roll < 0.053 and not first and not person["is_blacklisted"]:
            status = Order.Status.PENDING
            placed_at = max(created, self.now - timedelta(minutes=rng.randrange(5, 240)))
        else:
            status = Order.Status.COMPLETED
        dropoffs = person["dropoff_positions"]
        dropoff = dropoffs[0] if rng.random() < 0.7 else rng.choice(dropoffs)
        # Now and then the address changed mid-delivery.
        original = rng.choice(dropoffs) if len(dropoffs) > 1 and rng.random() < 0.01 else None
        source = rng.choices(SOURCES, SOURCE_WEIGHTS)[0]
        cents = self.add_items(len(chunk.orders))
        completed_at = None
        if status == Order.Status.COMPLETED:
            completed_at = placed_at + timedelta(minutes=rng.randrange(15, 60))
            person["counted"].append((placed_at, cents))
        external_id = f"{SOURCE_PREFIXES[source]}-{person['phone'][2:]}-{person['orders']}"
        self.add_payments(len(chunk.orders), external_id, status, cents, placed_at)
        chunk.orders.append(
            {
                "business_id": self.business_id,
                "customer_id": position,
                "external_id": external_id,
                "dropoff_id": dropoff,
                "original_dropoff_id": original if original != dropoff else None,
                "amount": Decimal(cents) / 100,
                "currency": self.currency,
                "status": status,
                "placed_at": placed_at,
                "completed_at": completed_at,
                "source": source,
                "created_customer": first,
                "created_at": placed_at,
            }
        )

    def add_payments(self, order_position, external_id, status, cents, placed_at):
        """What paid for the order: ~5% after a failed card attempt, COD pending until
        delivered, refunded orders refunded in full, ~3% of completed ones in part; a
        cancelled order's card was declined; a blocked order was never offered payment."""
        rng = self.rng
        if status == Order.Status.BLOCKED:
            return
        attempts = []
        if rng.random() < 0.05 or status == Order.Status.CANCELLED:
            attempts.append((Payment.Method.CARD, Payment.Status.FAILED))
        if status != Order.Status.CANCELLED:
            method = rng.choices(PAYMENT_METHODS, PAYMENT_METHOD_WEIGHTS)[0]
            pending = status == Order.Status.PENDING and method == Payment.Method.CASH_ON_DELIVERY
            attempts.append((method, Payment.Status.PENDING if pending else Payment.Status.SUCCEEDED))
        for number, (method, payment_status) in enumerate(attempts, start=1):
            amount = Decimal(cents) / 100
            refunded = Decimal(0)
            if payment_status == Payment.Status.SUCCEEDED:
                if status == Order.Status.REFUNDED:
                    refunded = amount
                elif status == Order.Status.COMPLETED and rng.random() < 0.03:
                    refunded = (amount * Decimal(rng.choice([20, 30, 50])) / 100).quantize(Decimal("0.01"))
            if refunded:
                payment_status = (
                    Payment.Status.REFUNDED if refunded == amount else Payment.Status.PARTIALLY_REFUNDED
                )
                self.chunk.refunds.append(
                    {
                        "business_id": self.business_id,
                        "payment_id": len(self.chunk.payments),
                        "amount": refunded,
                        "reason": rng.choice(REFUND_REASONS),
                        "actor_id": self.actor_id,
                        "source": "profile",
                        "created_at": min(self.now, placed_at + timedelta(hours=rng.randrange(1, 48))),
                    }
                )
            self.chunk.payments.append(
                {
                    "business_id": self.business_id,
                    "order_id": order_position,
                    "amount": amount,
                    "currency": self.currency,
                    "method": method,
                    "status": payment_status,
                    "transaction_id": f"demo-{external_id}-{number}",
                    "provider": rng.choice(PAYMENT_PROVIDERS[method]),
                    "processed_at": None if payment_status == Payment.Status.PENDING else placed_at,
                    "refunded_amount": refunded,
                    "created_at": placed_at,
                }
            )

    def add_items(self, order_position):
        """1-3 products whose total follows a log-normal target with a median of $20.
        Returns the order's total in cents."""
        rng = self.rng
        target = rng.lognormvariate(math.log(2000), 0.75)
        picks = rng.choices(PRODUCTS, PRODUCT_WEIGHTS, k=rng.choices([1, 2, 3], [45, 35, 20])[0])
        products = list(dict.fromkeys(picks))
        shares = [rng.random() + 0.2 for _ in products]
        total_cents = 0
        for (sku, name, category, price), share in zip(products, shares, strict=True):
            quantity = max(1, round(target * share / sum(shares) / price))
            total_cents += quantity * price
            self.chunk.items.append(
                {
                    "business_id": self.business_id,
                    "order_id": order_position,
                    "sku": sku,
                    "name": name,
                    "category": category,
                    "quantity": quantity,
                    "price": Decimal(price) / 100,
                }
            )
        return total_cents

    def add_customer(self, position, person):
        """The customer row with its stats over completed orders, its "created" activity,
        notes for ~3% and tags for ~10% (VIP for frequent buyers)."""
        rng, chunk = self.rng, self.chunk
        counted = person["counted"]
        roll = rng.random()
        status = Customer.Status.ACTIVE
        if roll < 0.005:
            status = Customer.Status.SUSPENDED
        elif roll < 0.035:
            status = Customer.Status.INACTIVE
        chunk.customers.append(
            {
                "business_id": self.business_id,
                "phone": person["phone"],
                "first_name": person["first_name"],
                "last_name": person["last_name"],
                "preferred_name": person["preferred_name"],
                "email": person["email"],
                "date_of_birth": person["date_of_birth"],
                "language": person["language"],
                "timezone": person["city"][2],
                "status": status,
                "phone_verified": rng.random() < 0.6,
                "is_blacklisted": person["is_blacklisted"],
                "order_count": len(counted),
                "total_spent": Decimal(sum(cents for _, cents in counted)) / 100,
                "first_order_at": min(placed_at for placed_at, _ in counted) if counted else None,
                "last_order_at": max(placed_at for placed_at, _ in counted) if counted else None,
                "search_text": person["search_text"],
                "created_at": person["created_at"],
                "updated_at": self.now,
            }
        )
        created = person["created_at"]
        self.add_activity(position, Activity.Kind.CREATED, created, None, {"phone": person["phone"]})
        if rng.random() < 0.03:
            for _ in range(rng.choice([1, 1, 2])):
                written_at = person["created_at"] + (self.now - person["created_at"]) * rng.random()
                note_position = len(chunk.notes)
                chunk.notes.append(
                    {
                        "business_id": self.business_id,
                        "customer_id": position,
                        "author_id": self.actor_id,
                        "body": rng.choice(NOTE_BODIES),
                        "created_at": written_at,
                    }
                )
                self.add_activity(
                    position,
                    Activity.Kind.NOTE_ADDED,
                    written_at,
                    self.actor_id,
                    {"note_position": note_position},
                )
        tag_names = ["VIP"] if len(counted) >= VIP_ORDER_COUNT else []
        if rng.random() < 0.1:
            tag_names += rng.sample(list(TAGS), rng.choice([1, 1, 2]))
        for name in dict.fromkeys(tag_names):
            chunk.tag_links.append({"customer_id": position, "tag_id": self.tags[name].pk})

    def add_activity(self, position, kind, moment, actor_id, data):
        self.chunk.activities.append(
            {
                "business_id": self.business_id,
                "customer_id": position,
                "kind": kind,
                "actor_id": actor_id,
                "data": data,
                "created_at": moment,
            }
        )


def ascii_name(text):
    """ "Łukasz Wiśniewski" -> "lukaszwisniewski", for email addresses."""
    return "".join(ch for ch in searchable(text).translate(ASCII_FALLBACKS) if ch.isascii() and ch.isalnum())
