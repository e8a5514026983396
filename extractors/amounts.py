"""The total the letter asks for: the amount a total label owns, never a billing line item."""

from __future__ import annotations

from collections import defaultdict

from .base import Candidate, Context
from .parse import Money, find_money

DECAY = {0: 1.0, 1: 0.95, 2: 0.85, 3: 0.7}


def amount_due(ctx: Context) -> Candidate | None:
    found: list[Candidate] = []
    for page, i, line, hit in ctx.labelled("amount_due"):
        for slot in ctx.slots(page, i, hit.end):
            spans = [s for s in find_money(slot.line.text) if s.start >= slot.start]
            if not spans:
                continue
            span = spans[0]
            money: Money = span.value  # type: ignore[assignment]
            if money.negative:
                break
            # A line-item label between the total label and the amount takes the amount.
            between_start = hit.end if slot.distance == 0 else 0
            items = [
                h
                for h in ctx.hits(slot.line, "line_item")
                if between_start <= h.start < span.start and h.weight >= 0.8
            ]
            if items:
                break
            score = hit.weight * DECAY.get(slot.distance, 0.6)
            if not money.has_symbol and not money.has_cents:
                score *= 0.5
            conf = slot.line.span_confidence(span.start, span.end)
            found.append(
                Candidate(
                    money.amount,
                    score * (0.55 + 0.45 * conf),
                    page.number,
                    slot.line.span_bbox(span.start, span.end),
                    line.text if slot.distance == 0 else f"{line.text} | {slot.line.text}",
                    "amount_due",
                )
            )
            break
    if not found:
        return None
    by_value: dict[object, list[Candidate]] = defaultdict(list)
    for c in found:
        by_value[c.value].append(c)

    def strength(cs: list[Candidate]) -> float:
        return max(c.confidence for c in cs) + 0.08 * (len(cs) - 1)

    best = max(by_value.values(), key=strength)
    top = max(best, key=lambda c: c.confidence)
    top.confidence = min(1.0, strength(best))
    return top
