"""The CDNOW sample of the BG/NBD paper (see data/README.md), read as purchases per day."""

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

SAMPLE = Path(__file__).parent / "data" / "CDNOW_sample.txt"
# The paper's calibration period: 39 weeks from 1997-01-01.
CALIBRATION_END = date(1997, 9, 30)


def purchases():
    """(customer number, day, dollar value) of every line of the sample."""
    for line in SAMPLE.read_text().splitlines():
        _, customer, day, _, amount = line.split()
        yield int(customer), date(int(day[:4]), int(day[4:6]), int(day[6:])), Decimal(amount)


def calibration_summary(unit_days=7):
    """Per customer: x, t_x and T in units of `unit_days` to the end of the calibration
    period, and the mean value of the repeat days (0 without one)."""
    days = defaultdict(lambda: defaultdict(Decimal))
    for customer, day, amount in purchases():
        if day <= CALIBRATION_END:
            days[customer][day] += amount
    rows = []
    for customer in sorted(days):
        spent = days[customer]
        ordered = sorted(spent)
        first, last = ordered[0], ordered[-1]
        repeat = [float(spent[day]) for day in ordered[1:]]
        rows.append(
            (
                len(ordered) - 1,
                (last - first).days / unit_days,
                (CALIBRATION_END - first).days / unit_days,
                sum(repeat) / len(repeat) if repeat else 0.0,
            )
        )
    return [list(column) for column in zip(*rows, strict=True)]
