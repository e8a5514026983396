"""Notice date and response date: a date's role comes from the label that owns it.

Tax-period ends, earlier notices, payments and RECEIVED stamps print dates too; a date that a
distractor label owns more closely than a role label is not taken for the role.
"""

from __future__ import annotations

import datetime as dt

from .base import Candidate, Context
from .parse import find_dates

DECAY = {0: 1.0, 1: 0.95, 2: 0.85, 3: 0.7}


def _owned(ctx: Context, role: str) -> dict[tuple[int, int, int], tuple[float, Candidate]]:
    """Date occurrences claimed by labels of `role`, keyed by (page, line id, start)."""
    out: dict[tuple[int, int, int], tuple[float, Candidate]] = {}
    for page, i, line, hit in ctx.labelled(role):
        weak = hit.weight < 0.5  # "by", "before": only a date right after them on the line
        for slot in ctx.slots(page, i, hit.end, rows_below=0 if weak else 2):
            if weak and slot.distance:
                continue
            spans = [s for s in find_dates(slot.line.text) if s.start >= slot.start]
            if not spans:
                continue
            span = spans[0]
            if slot.distance == 0 and span.start - hit.end > (6 if weak else 40):
                continue
            score = hit.weight * DECAY.get(slot.distance, 0.6)
            conf = slot.line.span_confidence(span.start, span.end)
            key = (page.number, id(slot.line), span.start)
            cand = Candidate(
                span.value,
                score * (0.5 + 0.5 * conf),
                page.number,
                slot.line.span_bbox(span.start, span.end),
                _evidence(line.text, slot.line.text, slot.distance),
                role,
            )
            if key not in out or out[key][0] < score:
                out[key] = (score, cand)
            break  # the nearest slot with a date owns it
    return out


def _evidence(label_line: str, value_line: str, distance: int) -> str:
    return label_line if distance == 0 else f"{label_line} | {value_line}"


def _best(ctx: Context, role: str) -> list[Candidate]:
    mine = _owned(ctx, role)
    other = _owned(ctx, "distractor_date")
    ranked: list[Candidate] = []
    for key, (score, cand) in mine.items():
        if key in other and other[key][0] >= score:
            continue
        ranked.append(cand)
    # Agreement: the same date claimed in several places (header and stub) is surer.
    for c in ranked:
        same = sum(1 for d in ranked if d.value == c.value)
        c.confidence = min(1.0, c.confidence + 0.05 * (same - 1))
    ranked.sort(key=lambda c: (-c.confidence, c.page, c.bbox[1]))
    return ranked


def notice_date(ctx: Context) -> Candidate | None:
    ranked = _best(ctx, "notice_date")
    if ranked:
        return ranked[0]
    # Unlabelled letter date (ACS and field letters): a lone date high on page 1.
    distract = _owned(ctx, "distractor_date")
    page = ctx.doc.pages[0]
    for line in page.lines:
        if line.bbox[1] > page.height * 0.35:
            break
        for span in find_dates(line.text):
            if (page.number, id(line), span.start) in distract:
                continue
            if len(line.text) - (span.end - span.start) > 12:
                continue  # a date inside a sentence is not the letter's date
            conf = 0.55 * (0.5 + 0.5 * line.span_confidence(span.start, span.end))
            bbox = line.span_bbox(span.start, span.end)
            return Candidate(span.value, conf, page.number, bbox, line.text, "notice_date")
    return None


def response_date(ctx: Context, notice: dt.date | None) -> Candidate | None:
    for cand in _best(ctx, "response_date"):
        if notice is not None and cand.value <= notice:
            continue
        if notice is not None and (cand.value - notice).days > 400:
            continue  # a deadline over a year out is a different date (a CSED, a hearing year)
        return cand
    return None
