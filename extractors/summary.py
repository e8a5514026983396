"""Billing summaries: the line items above a total row must add up to it.

A summary is a column of rows, each a label and an amount ("Amount you owed $5,417.07",
"Failure-to-pay penalty 269.08", "Payments and credits -$1,000.00") closed by a total row
("Amount due by May 3, 2024 $5,686.15"). Two independent readings of the same money (the total
and the sum of its parts) agreeing make the total surer; disagreeing, they say one of the
figures was misread, which a person must look at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from ingest.document import Line, Page

from .base import Context
from .parse import Money, find_dates, find_money

MAX_ITEMS = 8
# Items a letter may print without a minus sign although they lower the balance.
_SUBTRACTED = re.compile(r"payment|credit|refund|overpayment|applied|decrease", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SummaryCheck:
    total: Decimal
    parts: Decimal  # the items' sum, credits subtracted
    adds_up: bool
    page: int
    label: str
    items: tuple[Decimal, ...] = ()  # the line items' amounts as printed


def _row_money(page: Page, row: int, x0: float) -> tuple[Line | None, Money | None]:
    """The row's label cell (at the column's left edge) and the last amount on the row right of
    it; dates on the row ("Amount due by May 3, 2024") are not money."""
    cells = sorted(
        (ln for ln in page.lines if ln.row == row and ln.bbox[0] >= x0 - 12),
        key=lambda ln: ln.bbox[0],
    )
    if not cells or abs(cells[0].bbox[0] - x0) > 12:
        return None, None
    amounts: list[Money] = []
    for ln in cells:
        dates = find_dates(ln.text)
        amounts += [
            s.value  # type: ignore[misc]
            for s in find_money(ln.text)
            if not any(d.start <= s.start < d.end for d in dates)
        ]
    return cells[0], (amounts[-1] if amounts else None)


def billing_checks(ctx: Context) -> list[SummaryCheck]:
    """Every total row with at least two items above it in its column, and whether they add up."""
    out: list[SummaryCheck] = []
    for page, _i, line, hit in ctx.labelled("amount_due"):
        if hit.start > 2:
            continue  # a total row starts with its label
        x0 = line.bbox[0]
        label_cell, total = _row_money(page, line.row, x0)
        if label_cell is not line or total is None or total.negative:
            continue
        items: list[tuple[str, Money]] = []
        gap = 0
        for row in range(line.row - 1, max(line.row - 1 - 2 * MAX_ITEMS, -1), -1):
            cell, money = _row_money(page, row, x0)
            if cell is None:
                break
            if ctx.hits(cell, "amount_due") and not ctx.hits(cell, "line_item"):
                # An earlier total closes another block, unless it heads this one: the balance
                # carried in ("Amount you owe $8,450.00" under the title) is the first item.
                if money is not None and _row_money(page, row - 1, x0)[1] is None:
                    items.append((cell.text, money))
                break
            if money is None:
                gap += 1
                if gap > 1:
                    break  # the title, or prose: the block has ended
                continue  # a label wrapped onto two rows
            gap = 0
            items.append((cell.text, money))
        if len(items) < 2:
            continue
        signed = sum((-m.amount if m.negative else m.amount for _, m in items), Decimal(0))
        credits = sum(
            (m.amount for t, m in items if not m.negative and _SUBTRACTED.search(t)), Decimal(0)
        )
        # A credit printed without its minus sign is subtracted; the first row (the balance
        # carried in, "Amount you owed") never is.
        first = items[-1][1]
        if _SUBTRACTED.search(items[-1][0]) and not first.negative:
            credits -= first.amount
        adds_up = total.amount in (signed, signed - 2 * credits)
        parts = signed if adds_up and total.amount == signed else signed - 2 * credits
        amounts = tuple(m.amount for _, m in items)
        out.append(SummaryCheck(total.amount, parts, adds_up, page.number, line.text, amounts))
    return out
