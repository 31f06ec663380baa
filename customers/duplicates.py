"""Finding customers of a business that may be the same person.

Each reason is one set-based query over the whole business that returns pairs (a < b).
Exact keys (emails, name plus address) run everywhere; trigram similarity of names and
phones one digit apart need PostgreSQL's pg_trgm, so SQLite finds the exact reasons only.
The queries stay near-linear at a million customers by pairing only inside small blocks:
an email, an address, a city and birthday, a first or last name, a phone but one segment.
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
MAX_NAMESAKES = 3
# People of one city born the same day are paired only when their names are similar, so
# the block can be larger than MAX_GROUP: a city of a million customers has up to about 45.
MAX_BIRTHDAY_BLOCK = 100

LIVE = "c.business_id = %(business)s AND c.deleted_at IS NULL AND c.anonymized_at IS NULL"


def full_name(alias):
    return f"lower(trim({alias}.first_name)) || ' ' || lower(trim({alias}.last_name))"


FULL_NAME = full_name("c")

# Each exact key is first grouped, keeping groups of 2 to MAX_GROUP customers, and only
# their members are paired: grouping a million rows is one pass, where joining them all
# to each other would sort them twice.
SAME_EMAIL_SQL = f"""
    WITH emails AS (
        SELECT c.id AS customer_id, lower(c.email) AS email, 0 AS from_account
        FROM customers_customer c WHERE {LIVE} AND c.email <> ''
        UNION ALL
        SELECT c.id, lower(a.email), 1
        FROM customers_customeraccount a JOIN customers_customer c ON c.id = a.customer_id
        WHERE {LIVE} AND a.email <> ''
    ), owned AS (
        SELECT customer_id, email, min(from_account) AS from_account FROM emails GROUP BY customer_id, email
    ), shared AS (
        SELECT email FROM owned GROUP BY email HAVING count(*) BETWEEN 2 AND %(max_group)s
    ), owners AS (
        SELECT owned.* FROM owned JOIN shared ON shared.email = owned.email
    )
    SELECT a.customer_id, b.customer_id,
           CASE WHEN a.from_account + b.from_account = 0 THEN 'same_email' ELSE 'same_account_email' END
    FROM owners a JOIN owners b ON a.email = b.email AND a.customer_id < b.customer_id
"""

RESIDENTS = f"""
    located AS (
        SELECT DISTINCT c.id AS customer_id, d.address_key, {FULL_NAME} AS name
        FROM customers_dropoff d JOIN customers_customer c ON c.id = d.customer_id
        WHERE {LIVE} AND (c.first_name <> '' OR c.last_name <> '')
    ), shared AS (
        SELECT address_key FROM located GROUP BY address_key HAVING count(*) BETWEEN 2 AND %(max_group)s
    ), residents AS (
        SELECT located.* FROM located JOIN shared ON shared.address_key = located.address_key
    )
"""

SAME_NAME_AND_ADDRESS_SQL = f"""
    WITH {RESIDENTS}
    SELECT a.customer_id, b.customer_id, 'same_name_and_address'
    FROM residents a JOIN residents b ON a.address_key = b.address_key AND a.customer_id < b.customer_id
    WHERE a.name = b.name
"""

# The same scan, also pairing similar names (PostgreSQL).
NAME_AT_SAME_ADDRESS_SQL = f"""
    WITH {RESIDENTS}
    SELECT a.customer_id, b.customer_id,
           CASE WHEN a.name = b.name THEN 'same_name_and_address' ELSE 'similar_name_same_address' END
    FROM residents a JOIN residents b ON a.address_key = b.address_key AND a.customer_id < b.customer_id
    WHERE a.name = b.name OR similarity(a.name, b.name) >= %(similarity)s
"""

# Two reasons from one scan of the people with an address in a city:
# - same city and birthday: a tiny block, so any similar name (the same one included) counts;
# - a rare name next to a similar one that shares its first or last name (a typo touches one
#   of them) in the same city, unless their birthdays differ. Trigrams miss a typo in a short
#   name ("Mia Baeur"), so one edit, or a swap of two letters, counts too (fuzzystrmatch).
#   When the city has more than MAX_NAMESAKES people of the similar name, nothing tells
#   which of them the rare one is, and pairing it with all of them is noise.
SIMILAR_NAME_SAME_CITY_SQL = f"""
    WITH people AS MATERIALIZED (
        SELECT DISTINCT c.id AS customer_id, upper(trim(d.city)) AS city, c.date_of_birth,
               lower(trim(c.first_name)) AS first_part, lower(trim(c.last_name)) AS last_part,
               {FULL_NAME} AS name
        FROM customers_dropoff d JOIN customers_customer c ON c.id = d.customer_id
        WHERE {LIVE} AND d.city <> '' AND (c.first_name <> '' OR c.last_name <> '')
    ),
    birthdays AS (
        SELECT city, date_of_birth FROM people WHERE date_of_birth IS NOT NULL
        GROUP BY city, date_of_birth HAVING count(*) BETWEEN 2 AND %(max_birthday_block)s
    ),
    born AS (SELECT people.* FROM people JOIN birthdays USING (city, date_of_birth)),
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
    ),
    few_namesakes AS (
        SELECT city, name FROM people GROUP BY city, name HAVING count(*) <= %(max_namesakes)s
    )
    SELECT DISTINCT a.customer_id, b.customer_id, 'similar_name_same_city+same_date_of_birth'
    FROM born a JOIN born b
      ON a.city = b.city AND a.date_of_birth = b.date_of_birth AND a.customer_id < b.customer_id
    WHERE similarity(a.name, b.name) >= %(similarity)s
    UNION ALL
    SELECT DISTINCT LEAST(a.customer_id, b.customer_id), GREATEST(a.customer_id, b.customer_id),
           'similar_name_same_city'
    FROM rare_people a
    JOIN few_namesakes n ON n.city = a.city AND n.name = a.other
    JOIN people b ON b.name = a.other AND b.city = a.city
    WHERE a.date_of_birth IS NULL OR b.date_of_birth IS NULL OR a.date_of_birth = b.date_of_birth
"""

# Two phones of the same length one digit apart are equal but for one of four segments:
# the last six digits in pairs of two, and what comes before them. Each phone gets four
# keys, itself without one segment; phones sharing a key differ only in that segment,
# where the digits are counted. The country and area code before the last six digits vary
# little, so no key leaves out much of the rest of the number. No block is capped: one is
# at most the hundred numbers of a two-digit segment, or the prefixes of six last digits.
PHONE_ONE_DIGIT_APART_SQL = f"""
    WITH phones AS MATERIALIZED (
        SELECT c.id, substr(c.phone, 2) AS digits FROM customers_customer c WHERE {LIVE}
    ), keyed AS (
        SELECT p.id, s.part, length(p.digits) AS n,
               CASE WHEN s.part = 0 THEN right(p.digits, 6)
                    ELSE left(p.digits, -6)
                         || overlay(right(p.digits, 6) PLACING '' FROM 2 * s.part - 1 FOR 2)
               END COLLATE "C" AS rest,
               CASE WHEN s.part = 0 THEN left(p.digits, -6)
                    ELSE substr(right(p.digits, 6), 2 * s.part - 1, 2) END AS segment
        FROM phones p CROSS JOIN (VALUES (0), (1), (2), (3)) AS s (part)
    ), blocks AS (
        SELECT array_agg(id) AS ids, array_agg(segment) AS segments
        FROM keyed GROUP BY part, n, rest HAVING count(*) > 1
    ), pairs AS (
        SELECT ids[x] AS a, ids[y] AS b, segments[x] AS segment_a, segments[y] AS segment_b
        FROM blocks, generate_subscripts(ids, 1) AS x, generate_subscripts(ids, 1) AS y
        WHERE ids[x] < ids[y]
    )
    SELECT pairs.a, pairs.b, 'phone_one_digit_apart'
    FROM pairs
    JOIN customers_customer a ON a.id = pairs.a
    JOIN customers_customer b ON b.id = pairs.b
    WHERE (SELECT count(*) FROM generate_series(1, length(segment_a)) AS i
           WHERE substr(segment_a, i, 1) <> substr(segment_b, i, 1)) = 1
      AND similarity({full_name("a")}, {full_name("b")}) >= %(similarity)s
"""


def candidate_queries():
    if connection.vendor == "postgresql":
        return [
            SAME_EMAIL_SQL,
            NAME_AT_SAME_ADDRESS_SQL,
            SIMILAR_NAME_SAME_CITY_SQL,
            PHONE_ONE_DIGIT_APART_SQL,
        ]
    return [SAME_EMAIL_SQL, SAME_NAME_AND_ADDRESS_SQL]


def query_params(business):
    return {
        "business": business.pk,
        "max_group": MAX_GROUP,
        "similarity": NAME_SIMILARITY,
        "rare": RARE_NAME_CUSTOMERS,
        "rare_similarity": RARE_NAME_SIMILARITY,
        "max_namesakes": MAX_NAMESAKES,
        "max_birthday_block": MAX_BIRTHDAY_BLOCK,
    }


def tune_scan(cursor):
    """Planner settings for the scan's transaction, on PostgreSQL."""
    if connection.vendor != "postgresql":
        return
    # Right after a bulk load the planner has no statistics, takes each block for one row
    # and picks nested loops that go quadratic; hash joins are right for a full scan.
    cursor.execute("SET LOCAL enable_nestloop = off")
    # Compiling these one-off queries took about a second each and saved nothing.
    cursor.execute("SET LOCAL jit = off")


def find_duplicate_pairs(business):
    """{(customer a id, customer b id): set of reasons} for the business's live customers.
    A query names several reasons of a pair as "reason+reason"."""
    params = query_params(business)
    pairs = defaultdict(set)
    with connection.cursor() as cursor:
        tune_scan(cursor)
        for sql in candidate_queries():
            cursor.execute(sql, params)
            for customer_a, customer_b, reasons in cursor.fetchall():
                pairs[customer_a, customer_b].update(reasons.split("+"))
    return pairs


def refresh_statistics():
    """After the candidates were replaced: until autovacuum comes by, the planner would still
    count the previous scan's rows and page the list by sorting every candidate, instead of
    walking the score index (at a million customers, 260 ms for page 50 instead of 45 ms)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {DuplicateCandidate._meta.db_table}")


def score(reasons):
    doubt = 1.0
    for reason in reasons:
        doubt *= 1 - REASON_WEIGHTS[reason] / 100
    return round(100 * (1 - doubt))


def ordered_reasons(reasons):
    return [reason for reason in REASON_WEIGHTS if reason in reasons]
