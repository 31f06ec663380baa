"""The tier rules in one place: the configuration's shape and its checks, and the one SQL
query that evaluates customers against a configuration. The recalculation, the upgrade
after an order and the what-if all read that query, so they cannot disagree; the first two
refresh the rolling figures it reads first (`refresh_figures_sql`), the what-if reads them
as the last refresh left them.

A customer qualifies for a tier when every threshold set for it is met over its period; a
tier without any threshold is out of reach. Spend and visits are completed orders (refunded
and cancelled ones are not completed, so spend is net of them); lifetime figures are the
customer's stored stats, rolling ones their stored rolling figures (RollingFigures).
Points are the points earned over the period: the earn entries of the ledger less the
reversals of refunds and cancels, each counted when it was written (adjustments, redemptions
and expiries are not earned points). Each evaluated row says
the tier the customer should have now: an active override keeps its tier; a customer below
their tier keeps it until they have been below it for the grace days (counted from
`TierState.below_since`), then drops to the highest tier they qualify for.
"""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection

from loyalty.models import PERIOD_DAYS, TIER_ORDER, TIERS_ABOVE_BRONZE, Period, ThresholdKind

KINDS = list(ThresholdKind.values)
MAX_SPEND = Decimal("999999999999.99")
MAX_COUNT = 2_000_000_000
MAX_GRACE_DAYS = 3650

DEFAULT_THRESHOLDS = {
    "silver": {"spend": "100.00", "visits": None, "points": None, "period": Period.LIFETIME.value},
    "gold": {"spend": "500.00", "visits": 5, "points": None, "period": Period.LIFETIME.value},
    "platinum": {"spend": "2000.00", "visits": 20, "points": None, "period": Period.LIFETIME.value},
}
DEFAULT_GRACE_DAYS = 90


def thresholds(silver=None, gold=None, platinum=None):
    """A full thresholds dict from the thresholds set of each tier, the rest not set."""
    empty = {"spend": None, "visits": None, "points": None, "period": Period.LIFETIME.value}
    return {
        "silver": {**empty, **(silver or {})},
        "gold": {**empty, **(gold or {})},
        "platinum": {**empty, **(platinum or {})},
    }


def key(tier):
    """The configuration's key of a tier: "silver" for SILVER."""
    return str(tier).lower()


def clean_thresholds(data):
    """The thresholds of `data` ({"silver": {...}, "gold": ..., "platinum": ...}) in their stored
    shape; ValidationError {field: [messages]} for anything malformed or a higher tier that is
    easier to reach than a lower one."""
    if not isinstance(data, dict):
        raise ValidationError({"thresholds": ["Send silver, gold and platinum thresholds."]})
    errors, cleaned = {}, {}
    for tier in TIERS_ABOVE_BRONZE:
        name = key(tier)
        value = data.get(name)
        if not isinstance(value, dict):
            errors[name] = ["Send an object with spend, visits, points and period."]
            continue
        try:
            cleaned[name] = clean_tier(value)
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise ValidationError(errors)
    check_order(cleaned)
    return cleaned


def clean_tier(value):
    period = value.get("period", Period.LIFETIME)
    if period not in Period.values:
        raise ValidationError(f"period must be one of {', '.join(Period.values)}.")
    return {
        "spend": clean_spend(value.get("spend")),
        "visits": clean_count("visits", value.get("visits")),
        "points": clean_count("points", value.get("points")),
        "period": period,
    }


def clean_spend(value):
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValidationError("spend must be an amount such as “100.00”, or null.")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError("spend must be an amount such as “100.00”, or null.") from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_SPEND:
        raise ValidationError(f"spend must be above 0.00 and at most {MAX_SPEND}.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError("spend has at most two decimals.")
    return f"{amount:.2f}"


def clean_count(name, value):
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_COUNT:
        raise ValidationError(f"{name} must be a whole number from 1 to {MAX_COUNT:,}, or null.")
    return value


def clean_grace_days(value):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_GRACE_DAYS:
        raise ValidationError(
            {"grace_days": [f"grace_days must be a whole number from 0 to {MAX_GRACE_DAYS}."]}
        )
    return value


def window(period):
    """A period's length in days, lifetime the longest."""
    return PERIOD_DAYS[period] or float("inf")


def set_kinds(thresholds):
    return {kind: Decimal(str(thresholds[kind])) for kind in KINDS if thresholds[kind] is not None}


def check_order(cleaned):
    """Refuse a tier set above an empty one, a threshold lower than the same one of the tier
    below over a period at least as long, and a tier that every customer of the tier below
    reaches anyway."""
    errors = {}
    names = [key(tier) for tier in TIERS_ABOVE_BRONZE]
    for lower, higher in zip(names, names[1:], strict=False):
        low, high = cleaned[lower], cleaned[higher]
        low_set, high_set = set_kinds(low), set_kinds(high)
        if not high_set:
            continue
        if not low_set:
            errors[higher] = [f"Set {lower} thresholds before {higher} ones: {lower} would be out of reach."]
            continue
        longer_or_same = window(high["period"]) >= window(low["period"])
        for kind, value in high_set.items():
            if kind in low_set and value < low_set[kind] and longer_or_same:
                errors.setdefault(higher, []).append(
                    f"{higher.title()} {kind} ({value}) is below {lower} {kind} ({low_set[kind]}) over a "
                    f"period at least as long: {higher} would be easier to reach than {lower}."
                )
        implied = longer_or_same and all(
            kind in low_set and value <= low_set[kind] for kind, value in high_set.items()
        )
        if implied and higher not in errors:
            errors[higher] = [
                f"Every {lower} customer would reach {higher}: {higher} must ask for more than {lower}."
            ]
    if errors:
        raise ValidationError(errors)


# Evaluation ------------------------------------------------------------------------------

RANK_OF_TIER = (
    "CASE {column} "
    + " ".join(f"WHEN '{tier}' THEN {rank}" for rank, tier in enumerate(TIER_ORDER))
    + " ELSE 0 END"
)
TIER_OF_RANK = (
    "CASE {column} " + " ".join(f"WHEN {rank} THEN '{tier}'" for rank, tier in enumerate(TIER_ORDER)) + " END"
)


ROLLING_PERIODS = [period for period in Period.values if PERIOD_DAYS[period]]
FIGURES_TABLE = "loyalty_rollingfigures"
FIGURE_COLUMNS = [f"{kind}_{period}" for period in ROLLING_PERIODS for kind in ("spend", "visits")]


def order_columns(thresholds):
    """The rolling periods used: {period: (spend column, visits column)} of the rolling figures."""
    periods = sorted(
        {t["period"] for t in thresholds.values() if set_kinds(t)} - {Period.LIFETIME}, key=window
    )
    return {period: (f"spend_{period}", f"visits_{period}") for period in periods}


def customers_condition(customer_ids=None, id_range=None):
    """(a function of a column giving the SQL condition that it holds one of these customers'
    ids, its parameters): the ids listed, the ids in [low, high), or every id. Each table of a
    query gets the condition on its own column: the planner then reads only those customers'
    rows of it, not the whole table."""
    if customer_ids is not None:
        ids = ", ".join(str(int(pk)) for pk in customer_ids) or "NULL"
        return (lambda column: f"{column} IN ({ids})"), []
    if id_range is not None:
        return (lambda column: f"{column} >= %s AND {column} < %s"), list(id_range)
    return (lambda column: "1 = 1"), []


def refresh_figures_sql(
    *, business_id, at, customer_ids=None, id_range=None, keep_newer=False, returning=False
):
    """An upsert of the rolling figures (loyalty.models.RollingFigures) of the live customers
    of a business (those ids, or ids in [low, high)) from their completed orders placed in the
    periods ending at `at`, and its parameters. Rows whose figures did not change are not
    written. With `keep_newer`, a row written after `at` (an order re-evaluated its customer
    during a recalculation) is left alone. With `returning`, every row is written and
    returned (to be read in the same statement, see `evaluation_sql`).

    The orders are read by customer (the order_customer_completed_idx index covers them), so
    a recalculation reads each order once over all its id ranges."""
    time = connection.ops.adapt_datetimefield_value
    chosen, chosen_params = customers_condition(customer_ids, id_range)
    sums, sum_params = [], []
    for period in ROLLING_PERIODS:
        since = time(at - timedelta(days=PERIOD_DAYS[period]))
        sums.append(f"SUM(CASE WHEN o.placed_at >= %s THEN o.amount ELSE 0 END) AS spend_{period}")
        sums.append(f"SUM(CASE WHEN o.placed_at >= %s THEN 1 ELSE 0 END) AS visits_{period}")
        sum_params += [since, since]
    oldest = time(at - timedelta(days=max(PERIOD_DAYS[period] for period in ROLLING_PERIODS)))
    columns = ", ".join(FIGURE_COLUMNS)
    table = FIGURES_TABLE
    changed = " OR ".join(f"{table}.{column} <> excluded.{column}" for column in FIGURE_COLUMNS)
    newer = f"{table}.computed_at <= excluded.computed_at AND " if keep_newer else ""
    sql = (
        f"INSERT INTO {table} (customer_id, {columns}, computed_at) "
        f"SELECT c.id, {', '.join(f'COALESCE(r.{column}, 0)' for column in FIGURE_COLUMNS)}, %s "
        f"FROM customers_customer c LEFT JOIN (SELECT o.customer_id, {', '.join(sums)} "
        f"FROM customers_order o WHERE {chosen('o.customer_id')} AND o.status = 'completed' "
        "AND o.placed_at >= %s GROUP BY o.customer_id) r ON r.customer_id = c.id "
        f"WHERE c.business_id = %s AND c.deleted_at IS NULL AND {chosen('c.id')} "
        "ON CONFLICT (customer_id) DO UPDATE SET "
        f"{', '.join(f'{column} = excluded.{column}' for column in FIGURE_COLUMNS)}, "
        "computed_at = excluded.computed_at "
        + (f"RETURNING customer_id, {columns}" if returning else f"WHERE {newer}({changed})")
    )
    params = [time(at), *sum_params, *chosen_params, oldest, business_id, *chosen_params]
    return sql, params


def points_periods(thresholds):
    """The periods of the tiers with a points threshold, in a fixed order."""
    return sorted(
        {t["period"] for t in thresholds.values() if t.get("points") is not None},
        key=window,
    )


def points_earned_join(thresholds, *, business_id, at, chosen, chosen_params):
    """The LEFT JOIN of the points earned per customer over each period a points threshold
    uses (alias p, columns points_<period>), and its parameters; ("", []) without one."""
    periods = points_periods(thresholds)
    if not periods:
        return "", []
    time = connection.ops.adapt_datetimefield_value
    sums, params = [], []
    for period in periods:
        if period == Period.LIFETIME:
            sums.append(f"SUM(e.points) AS points_{period}")
        else:
            sums.append(f"SUM(CASE WHEN e.created_at >= %s THEN e.points ELSE 0 END) AS points_{period}")
            params.append(time(at - timedelta(days=PERIOD_DAYS[period])))
    join = (
        f"LEFT JOIN (SELECT e.customer_id, {', '.join(sums)} FROM loyalty_pointsentry e "
        f"WHERE e.business_id = %s AND e.kind IN ('earn', 'reverse') "
        f"AND {chosen('e.customer_id')} GROUP BY e.customer_id) p ON p.customer_id = c.id "
    )
    return join, [*params, business_id, *chosen_params]


def tier_condition(tier_thresholds, columns):
    set_ = set_kinds(tier_thresholds)
    if not set_:
        return "1 = 0"
    period = tier_thresholds["period"]
    if period == Period.LIFETIME:
        figures = {"spend": "c.total_spent", "visits": "c.order_count"}
    else:
        spend, visits = columns[period]
        figures = {"spend": f"COALESCE(r.{spend}, 0)", "visits": f"COALESCE(r.{visits}, 0)"}
    figures["points"] = f"COALESCE(p.points_{period}, 0)"
    # The values are cleaned Decimals and ints, never user text: inlined, they compare as numbers
    # on both databases (SQLite compares a bound string to a number as text).
    return " AND ".join(f"{figures[kind]} >= {value}" for kind, value in set_.items())


def evaluation_sql(
    *, business_id, thresholds, grace_days, at, customer_ids=None, id_range=None, refresh=False
):
    """SELECT of (id, old_tier, new_tier, qualified, below_since, has_state, overridden) for the
    live customers of a business (or those ids, or ids in [low, high)), and its parameters.
    Rolling periods read the stored rolling figures: refresh them first to evaluate at `at`,
    or (PostgreSQL) ask for `refresh`: the statement then refreshes them in a data-modifying
    WITH and evaluates what it wrote."""
    time = connection.ops.adapt_datetimefield_value
    columns = order_columns(thresholds)
    chosen, chosen_params = customers_condition(customer_ids, id_range)
    with_refresh, join_recent, join_params = "", "", []
    if refresh:
        upsert, join_params = refresh_figures_sql(
            business_id=business_id, at=at, customer_ids=customer_ids, id_range=id_range, returning=True
        )
        with_refresh, join_recent = f"WITH r AS ({upsert}) ", "LEFT JOIN r ON r.customer_id = c.id "
    elif columns:
        join_recent = f"LEFT JOIN {FIGURES_TABLE} r ON r.customer_id = c.id AND {chosen('r.customer_id')} "
        join_params = chosen_params
    join_points, points_params = points_earned_join(
        thresholds, business_id=business_id, at=at, chosen=chosen, chosen_params=chosen_params
    )
    cases = " ".join(
        f"WHEN {tier_condition(thresholds[key(tier)], columns)} THEN {TIER_ORDER.index(tier)}"
        for tier in reversed(TIERS_ABOVE_BRONZE)
    )
    if grace_days == 0:
        grace_over, outer_params = "1 = 1", []
    else:
        grace_over = "(q.below_since IS NOT NULL AND q.below_since <= %s)"
        outer_params = [time(at - timedelta(days=grace_days))]
    inner = (
        f"SELECT c.id, c.tier AS old_tier, {RANK_OF_TIER.format(column='c.tier')} AS old_rank, "
        f"CASE {cases} ELSE 0 END AS q_rank, s.below_since, "
        "CASE WHEN s.customer_id IS NULL THEN 0 ELSE 1 END AS has_state, "
        "CASE WHEN s.override_tier IS NOT NULL AND s.override_tier <> '' THEN 1 ELSE 0 END AS overridden "
        f"FROM customers_customer c {join_recent}{join_points}"
        f"LEFT JOIN loyalty_tierstate s ON s.customer_id = c.id AND {chosen('s.customer_id')} "
        f"WHERE c.business_id = %s AND c.deleted_at IS NULL AND {chosen('c.id')}"
    )
    qualified = TIER_OF_RANK.format(column="q.q_rank")
    sql = (
        f"{with_refresh}SELECT q.id, q.old_tier, "
        f"CASE WHEN q.overridden = 1 OR (q.q_rank < q.old_rank AND NOT {grace_over}) THEN q.old_tier "
        f"ELSE {qualified} END AS new_tier, "
        f"{qualified} AS qualified, q.below_since, q.has_state, q.overridden "
        f"FROM ({inner}) q"
    )
    if refresh:
        return sql, [*join_params, *outer_params, *points_params, *chosen_params, business_id, *chosen_params]
    return sql, [*outer_params, *join_params, *points_params, *chosen_params, business_id, *chosen_params]


def evaluate(*, refresh=False, **kwargs):
    """The evaluated rows of `evaluation_sql`, as dicts. With `refresh`, the customers' rolling
    figures are refreshed first: on PostgreSQL in the same statement (one query for the
    upgrade after an order), elsewhere by an upsert before it."""
    with connection.cursor() as cursor:
        if refresh and connection.vendor != "postgresql":
            figures = ("business_id", "at", "customer_ids", "id_range")
            cursor.execute(*refresh_figures_sql(**{name: kwargs.get(name) for name in figures}))
            refresh = False
        sql, params = evaluation_sql(refresh=refresh, **kwargs)
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
