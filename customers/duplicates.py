"""Finding customers of a business that may be the same person.

Each reason is one set-based query over the whole business that returns pairs (a < b).
Exact keys (emails, name plus address) run everywhere; trigram similarity of names and
phones one digit apart need PostgreSQL's pg_trgm, so SQLite finds the exact reasons only.
The queries stay near-linear at a million customers by joining only inside small blocks:
an email, an address, a city and birthday, a first or last name, two thirds of a phone.
"""

from collections import defaultdict

from django.db import connection

from customers.models import DuplicateCandidate

Reason = DuplicateCandidate.Reason

# How sure each reason alone makes us, in percent; several reasons combine as independent
# evidence (1 - product of the doubts).
REASON_WEIGHTS = {
    Reason.SAME_EMAIL: 90,
    Reason.SAME_ACCOUNT_EMAIL: 80,
    Reason.SAME_NAME_AND_ADDRESS: 85,
    Reason.SIMILAR_NAME_SAME_ADDRESS: 70,
    Reason.SIMILAR_NAME_SAME_CITY: 50,
    Reason.SAME_DATE_OF_BIRTH: 40,
    Reason.PHONE_ONE_DIGIT_APART: 60,
}
# A key shared by more customers than this (a family address, a shared office email) says
# nothing about any two of them, and would add its size squared in pairs.
MAX_GROUP = 20
NAME_SIMILARITY = 0.5
# A full name this rare may be a typo of a similar common one; two common names that look
# alike (Thomas, Thompson) are two families.
RARE_NAME_CUSTOMERS = 3
RARE_NAME_SIMILARITY = 0.6

LIVE = "c.business_id = %(business)s AND c.deleted_at IS NULL AND c.anonymized_at IS NULL"
FULL_NAME = "lower(trim(c.first_name)) || ' ' || lower(trim(c.last_name))"

SAME_EMAIL_SQL = f"""
    WITH emails AS (
        SELECT c.id AS customer_id, lower(c.email) AS email, 0 AS from_account
        FROM customers_customer c WHERE {LIVE} AND c.email <> ''
        UNION
        SELECT c.id, lower(a.email), 1
        FROM customers_customeraccount a JOIN customers_customer c ON c.id = a.customer_id
        WHERE {LIVE} AND a.email <> ''
    ), owned AS (
        SELECT customer_id, email, min(from_account) AS from_account,
               count(*) OVER (PARTITION BY email) AS size
        FROM emails GROUP BY customer_id, email
    )
    SELECT a.customer_id, b.customer_id,
           CASE WHEN a.from_account + b.from_account = 0 THEN 'same_email' ELSE 'same_account_email' END
    FROM owned a JOIN owned b ON a.email = b.email AND a.customer_id < b.customer_id
    WHERE a.size <= %(max_group)s
"""

LOCATED = f"""
    SELECT DISTINCT c.id AS customer_id, d.address_key, {FULL_NAME} AS name
    FROM customers_dropoff d JOIN customers_customer c ON c.id = d.customer_id
    WHERE {LIVE} AND (c.first_name <> '' OR c.last_name <> '')
"""

SAME_NAME_AND_ADDRESS_SQL = f"""
    WITH located AS ({LOCATED}), sized AS (
        SELECT *, count(*) OVER (PARTITION BY address_key, name) AS size FROM located
    )
    SELECT a.customer_id, b.customer_id, 'same_name_and_address'
    FROM sized a JOIN sized b
      ON a.address_key = b.address_key AND a.name = b.name AND a.customer_id < b.customer_id
    WHERE a.size <= %(max_group)s
"""

SIMILAR_NAME_SAME_ADDRESS_SQL = f"""
    WITH located AS ({LOCATED}), sized AS (
        SELECT *, count(*) OVER (PARTITION BY address_key) AS size FROM located
    )
    SELECT DISTINCT a.customer_id, b.customer_id, 'similar_name_same_address'
    FROM sized a JOIN sized b ON a.address_key = b.address_key AND a.customer_id < b.customer_id
    WHERE a.size <= %(max_group)s AND a.name <> b.name AND similarity(a.name, b.name) >= %(similarity)s
"""

PEOPLE_IN_CITIES = f"""
    SELECT DISTINCT c.id AS customer_id, upper(trim(d.city)) AS city, c.date_of_birth,
           lower(trim(c.first_name)) AS first_part, lower(trim(c.last_name)) AS last_part, {FULL_NAME} AS name
    FROM customers_dropoff d JOIN customers_customer c ON c.id = d.customer_id
    WHERE {LIVE} AND d.city <> '' AND (c.first_name <> '' OR c.last_name <> '')
"""

# Same city and birthday: a tiny block, so any similar name (the same one included) counts.
SIMILAR_NAME_SAME_CITY_AND_BIRTHDAY_SQL = f"""
    WITH people AS ({PEOPLE_IN_CITIES})
    SELECT DISTINCT a.customer_id, b.customer_id, 'similar_name_same_city+same_date_of_birth'
    FROM people a JOIN people b
      ON a.city = b.city AND a.date_of_birth = b.date_of_birth AND a.customer_id < b.customer_id
    WHERE similarity(a.name, b.name) >= %(similarity)s
"""

# A rare name next to a similar one that shares its first or last name (a typo touches one
# of them) in the same city, unless their birthdays differ. Trigrams miss a typo in a short
# name ("Mia Baeur"), so one edit, or a swap of two letters, counts too (fuzzystrmatch).
SIMILAR_RARE_NAME_SAME_CITY_SQL = f"""
    WITH people AS MATERIALIZED ({PEOPLE_IN_CITIES}),
    names AS (
        SELECT first_part, last_part, name, count(DISTINCT customer_id) AS customers
        FROM people GROUP BY first_part, last_part, name
    ),
    same_part AS (
        SELECT r.name AS rare, n.name AS other
        FROM names r JOIN names n ON n.first_part = r.first_part AND n.name <> r.name
        WHERE r.customers <= %(rare)s
        UNION
        SELECT r.name, n.name
        FROM names r JOIN names n ON n.last_part = r.last_part AND n.name <> r.name
        WHERE r.customers <= %(rare)s
    ),
    lookalikes AS MATERIALIZED (
        SELECT rare, other FROM same_part
        WHERE similarity(rare, other) >= %(rare_similarity)s OR levenshtein(rare, other) <= 1
           OR (levenshtein(rare, other) = 2 AND length(rare) = length(other))
    ),
    rare_people AS MATERIALIZED (
        SELECT a.customer_id, a.city, a.date_of_birth, s.other
        FROM lookalikes s JOIN people a ON a.name = s.rare
    )
    SELECT DISTINCT LEAST(a.customer_id, b.customer_id), GREATEST(a.customer_id, b.customer_id),
           'similar_name_same_city'
    FROM rare_people a JOIN people b ON b.name = a.other AND b.city = a.city
    WHERE a.date_of_birth IS NULL OR b.date_of_birth IS NULL OR a.date_of_birth = b.date_of_birth
"""

# Two phones of the same length one digit apart share two of their three thirds exactly:
# join on each pair of thirds, then count the differing digits.
PHONE_ONE_DIGIT_APART_SQL = f"""
    WITH phones AS (
        SELECT c.id, substr(c.phone, 2) AS digits, length(c.phone) - 1 AS n, {FULL_NAME} AS name
        FROM customers_customer c WHERE {LIVE}
    ), keyed AS (
        SELECT id, digits, n, name, 1 AS part, substr(digits, n / 3 + 1) AS key FROM phones
        UNION ALL
        SELECT id, digits, n, name, 2, substr(digits, 1, n / 3) || substr(digits, 2 * (n / 3) + 1) FROM phones
        UNION ALL
        SELECT id, digits, n, name, 3, substr(digits, 1, 2 * (n / 3)) FROM phones
    )
    SELECT a.id, b.id, 'phone_one_digit_apart'
    FROM keyed a JOIN keyed b ON a.part = b.part AND a.n = b.n AND a.key = b.key AND a.id < b.id
    WHERE a.digits <> b.digits AND similarity(a.name, b.name) >= %(similarity)s
      AND (SELECT count(*) FROM generate_series(1, a.n) AS i
           WHERE substr(a.digits, i, 1) <> substr(b.digits, i, 1)) = 1
"""

EXACT_QUERIES = [SAME_EMAIL_SQL, SAME_NAME_AND_ADDRESS_SQL]
SIMILARITY_QUERIES = [
    SIMILAR_NAME_SAME_ADDRESS_SQL,
    SIMILAR_NAME_SAME_CITY_AND_BIRTHDAY_SQL,
    SIMILAR_RARE_NAME_SAME_CITY_SQL,
    PHONE_ONE_DIGIT_APART_SQL,
]


def candidate_queries():
    if connection.vendor == "postgresql":
        return EXACT_QUERIES + SIMILARITY_QUERIES
    return EXACT_QUERIES


def find_duplicate_pairs(business):
    """{(customer a id, customer b id): set of reasons} for the business's live customers.
    A query names several reasons of a pair as "reason+reason"."""
    params = {
        "business": business.pk,
        "max_group": MAX_GROUP,
        "similarity": NAME_SIMILARITY,
        "rare": RARE_NAME_CUSTOMERS,
        "rare_similarity": RARE_NAME_SIMILARITY,
    }
    pairs = defaultdict(set)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Right after a bulk load the planner has no statistics, takes each block for one
            # row and picks nested loops that go quadratic; hash joins are right for a full scan.
            cursor.execute("SET LOCAL enable_nestloop = off")
        for sql in candidate_queries():
            cursor.execute(sql, params)
            for customer_a, customer_b, reasons in cursor.fetchall():
                pairs[customer_a, customer_b].update(reasons.split("+"))
    return pairs


def score(reasons):
    doubt = 1.0
    for reason in reasons:
        doubt *= 1 - REASON_WEIGHTS[reason] / 100
    return round(100 * (1 - doubt))


def ordered_reasons(reasons):
    return [reason for reason in REASON_WEIGHTS if reason in reasons]
