"""Commerce subscriptions (object 0-69) -> ``policies.model.Subscription``, MRR history (R7.3).

The MRR in force at a revenue month's start comes from ``hs_mrr``'s property history. What a
reader can rely on:

- ``mrr_history`` is oldest first, one entry per UTC date (the last value of a day wins), and
  consecutive equal amounts are merged; its last entry is the current ``hs_mrr``.
- When the current value is newer than the history read (or no history was read), it is appended
  at the record's ``updatedAt`` date (or, with no history at all, at the billing start date).
- The oldest entry never starts after the billing start date: the first MRR HubSpot recorded is
  the MRR the subscription started with, even when the record was created (or imported) after its
  billing start.
- Emptied values in the history are skipped; unusable ones are reported (``invalid_number`` /
  ``invalid_date``) and skipped.
"""

from __future__ import annotations

from datetime import date, timedelta

from mappers.fields import FieldReader, HubSpotNames
from mappers.parse import INVALID_DATE, INVALID_NUMBER, Invalid, parse_decimal
from policies.model import MrrChange, Subscription

__all__ = ["mrr_history", "subscription_from_record"]

H = HubSpotNames
_EPOCH = date(1970, 1, 1)
_DAY_MS = 86_400_000


def subscription_from_record(read: FieldReader) -> Subscription:
    """The subscription's fields; bad values are reported through ``read`` and left None."""
    start = read.date(H.SUB_START)
    currency = read.text(H.SUB_CURRENCY)
    return Subscription(
        subscription_id=read.record.object_id,
        status=read.lower(H.SUB_STATUS),
        start_date=start,
        end_date=read.date(H.SUB_END),
        mrr_history=mrr_history(read, start),
        currency=None if currency is None else currency.upper(),
    )


def mrr_history(read: FieldReader, start: date | None) -> tuple[MrrChange, ...]:
    """``hs_mrr`` as dated changes, oldest first (see the module docstring for the guarantees)."""
    record = read.record
    points: list[tuple[int | None, str]] = list(record.history.get(H.SUB_MRR, ()))
    current = record.prop(H.SUB_MRR)
    if current is not None and (not points or points[-1][1].strip() != current.strip()):
        points.append((record.updated_at_ms if points else None, current))
    changes: list[MrrChange] = []
    for ms, raw in points:
        amount = parse_decimal(raw)
        if amount is None:
            continue
        if isinstance(amount, Invalid):
            read.report(INVALID_NUMBER, f"{H.SUB_MRR}={raw!r}")
            continue
        effective = _day(ms) if ms is not None else (start or date.min)
        if effective is None:
            read.report(INVALID_DATE, f"{H.SUB_MRR} history timestamp {ms}")
            continue
        _append(changes, MrrChange(effective, amount))
    if changes and start is not None and changes[0].effective > start:
        changes[0] = MrrChange(start, changes[0].amount)
    return tuple(changes)


def _day(ms: int) -> date | None:
    try:
        return _EPOCH + timedelta(days=ms // _DAY_MS)
    except OverflowError:
        return None


def _append(changes: list[MrrChange], change: MrrChange) -> None:
    """Add ``change`` keeping one entry per date and no repeated amounts."""
    if changes and changes[-1].effective >= change.effective:
        # Same day (or an out-of-order appended current value): the later value wins that day.
        changes[-1] = MrrChange(changes[-1].effective, change.amount)
    elif not changes or changes[-1].amount != change.amount:
        changes.append(change)
    if len(changes) > 1 and changes[-1].amount == changes[-2].amount:
        changes.pop()
