"""The order ingestion API that partner apps and storefront checkouts call.

`POST /api/v1/orders` with `Authorization: Bearer <key>` and a JSON object; see the
contract under "Commands" in README.md. The view authenticates, reads at most MAX_BODY_BYTES, lets
OrderForm check the payload and hands it to `services.record_order`. `POST /api/v1/orders/batch`
(batch.py) checks each of up to 1,000 such orders with the same form and schema and hands the
valid ones to `services.record_orders`, which records them set-based.

Every field is checked against what its column holds (customers/normalize.py), so bad
input is a 400 and never a 500: `placed_at` lies between 1970-01-01 and a day from now,
with a UTC offset of at most ±15:59; texts hold no NUL character or lone surrogate;
numbers use the digits 0-9 and fit their column. See the README's API section.
"""
