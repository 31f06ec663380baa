"""Set-based writes: rows (dicts by attribute name) inserted by COPY on PostgreSQL or by
bulk_create elsewhere, upserted with ON CONFLICT, and the customers' stats recomputed in
one statement. Used by the imports and the demo data."""

from django.db import connection
from django.db.models import DateTimeField, JSONField
from django.utils import timezone

from customers.bulk.columns import CONTACT_COLUMNS
from customers.models import Customer, Order

# Rows per INSERT statement: well under SQLite's limit of bound parameters.
INSERT_BATCH = 500

# Prepared by Django for the database (time zones, decimals, JSON); other values go as they are.
PREPARED_TYPES = {"DateTimeField", "DateField", "DecimalField", "JSONField"}


def bulk_insert(model, rows, returning_ids=False):
    """Insert rows (dicts by attribute name): COPY on PostgreSQL, as the demo data does."""
    if not rows:
        return []
    writer = CopyWriter() if connection.vendor == "postgresql" else BulkCreateWriter()
    return writer.insert(model, rows, returning_ids) or []


def insert_returning(model, rows, *, conflict, returning):
    """INSERT the rows (dicts by attribute name; missing fields take their defaults) in
    batches with an ON CONFLICT clause; returns the RETURNING tuples."""
    if not rows:
        return []
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    if connection.vendor == "postgresql":
        return copy_insert_returning(model, fields, defaults, rows, conflict=conflict, returning=returning)
    prepared = {f.attname: f for f in fields if f.get_internal_type() in PREPARED_TYPES}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    results = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_BATCH):
            batch = rows[start : start + INSERT_BATCH]
            params = []
            for row in batch:
                for name, default in defaults.items():
                    value = row.get(name, default)
                    params.append(
                        prepared[name].get_db_prep_save(value, connection) if name in prepared else value
                    )
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES "
                f"{', '.join([placeholders] * len(batch))} {conflict} RETURNING {returning}",
                params,
            )
            results += cursor.fetchall()
    return results


def copy_insert_returning(model, fields, defaults, rows, *, conflict, returning):
    """COPY the rows into a temporary table, then INSERT them from there: COPY is several
    times faster than a long INSERT ... VALUES, which the driver also has to assemble."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    staging = quote(f"import_{model._meta.db_table}")
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS "
            f"AS SELECT {columns} FROM {table} WITH NO DATA"
        )
        cursor.execute(f"DELETE FROM {staging}")
        with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row.get(name, default) for name, default in defaults.items()])
        insert = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging}"
        cursor.execute(f"{insert} {conflict} RETURNING {returning}")
        return cursor.fetchall()


def upsert_customers(business, rows, now):
    """Insert or update customers by phone, as one statement per batch whatever another
    request does meanwhile: a blank value never overwrites a stored one. `rows` are
    (phone, contact, search_text); returns {phone: id}."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    updates = [
        f"{name} = COALESCE(NULLIF(EXCLUDED.{name}, ''), {table}.{name})"
        for name in ["first_name", "last_name", "email", "language"]
    ]
    updates += [
        f"date_of_birth = COALESCE(EXCLUDED.date_of_birth, {table}.date_of_birth)",
        "search_text = EXCLUDED.search_text",
        "updated_at = EXCLUDED.updated_at",
    ]
    records = [
        {
            "business_id": business.pk,
            "phone": phone,
            **{
                name: value
                for name, value in contact.items()
                if name in CONTACT_COLUMNS and value is not None
            },
            "search_text": search_text,
            "created_at": now,
            "updated_at": now,
        }
        for phone, contact, search_text in rows
    ]
    conflict = f"ON CONFLICT (business_id, phone) WHERE deleted_at IS NULL DO UPDATE SET {', '.join(updates)}"
    return {
        phone: pk
        for pk, phone in insert_returning(Customer, records, conflict=conflict, returning="id, phone")
    }


def recompute_stats(customer_ids):
    """The customers' stats from their counted orders, in one UPDATE from one aggregate: after
    an import, a status change, a merge or its undo. A customer without a counted order gets
    no orders, nothing spent and no first or last order."""
    if not customer_ids:
        return
    ids = sorted(customer_ids)
    statuses = list(Order.COUNTED_STATUSES)
    customers, orders = Customer._meta.db_table, Order._meta.db_table
    sql = f"""
        UPDATE {customers} SET order_count = stats.order_count, total_spent = stats.total_spent,
            first_order_at = stats.first_order_at, last_order_at = stats.last_order_at
        FROM (
            SELECT customer.id AS customer_id, COUNT(counted.id) AS order_count,
                   COALESCE(SUM(counted.amount), 0) AS total_spent,
                   MIN(counted.placed_at) AS first_order_at, MAX(counted.placed_at) AS last_order_at
            FROM {customers} AS customer
            LEFT JOIN {orders} AS counted ON counted.customer_id = customer.id
                AND counted.status IN ({", ".join(["%s"] * len(statuses))})
            WHERE customer.id IN ({", ".join(["%s"] * len(ids))})
            GROUP BY customer.id
        ) AS stats
        WHERE {customers}.id = stats.customer_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*statuses, *ids])


# Writers -----------------------------------------------------------------------------


class BulkCreateWriter:
    """Portable: Django's bulk_create (ids come back on PostgreSQL and SQLite 3.35+)."""

    def insert(self, model, rows, returning_ids=False):
        objects = [model(**row) for row in rows]
        model.objects.bulk_create(objects, batch_size=2000)
        return [obj.pk for obj in objects] if returning_ids else None


class CopyWriter:
    """PostgreSQL COPY: several times faster than INSERTs. When the caller needs the ids
    they are drawn from the table's sequence first; a column a row leaves out gets its
    field's default."""

    def insert(self, model, rows, returning_ids=False):
        from psycopg.types.json import Jsonb

        if not rows:
            return []
        table = model._meta.db_table
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        now = timezone.now()
        defaults = [
            now if isinstance(f, DateTimeField) and (f.auto_now or f.auto_now_add) else f.get_default()
            for f in fields
        ]
        names = [f.attname for f in fields]
        json_positions = [position for position, f in enumerate(fields) if isinstance(f, JSONField)]
        columns = [f.column for f in fields]
        ids = []
        with connection.cursor() as cursor:
            if returning_ids:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [table, model._meta.pk.column, len(rows)],
                )
                ids = [id for (id,) in cursor.fetchall()]
                columns.insert(0, model._meta.pk.column)
            quote = connection.ops.quote_name
            sql = f"COPY {quote(table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                for number, row in enumerate(rows):
                    values = [row.get(name, default) for name, default in zip(names, defaults, strict=True)]
                    for position in json_positions:
                        values[position] = Jsonb(values[position])
                    copy.write_row([ids[number], *values] if returning_ids else values)
        return ids
