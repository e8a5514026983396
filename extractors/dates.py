"""Notice date and response date: a date's role comes from the label that owns it.

Tax-period ends, earlier notices, payments and RECEIVED stamps print dates too. Every label that
could own a date claims it; the nearest claim wins (same line before the line below, fewer
characters between before more), so "If we do not receive your reply by May 3" gives May 3 to
"by", not to "receive".
"""

from __future__ import annotations

import datetime as dt
import re

from ingest.document import Line, Page

from .base import Candidate, Context
from .parse import Span, find_dates

DECAY = {0: 1.0, 1: 0.95, 2: 0.85, 3: 0.7}
_TIME_OF_DAY = re.compile(
    r"\s*\d{1,2}(?::\d{2})?\s*[ap]\.?\s?m\.?(?:\s+[A-Z]{2,3})?,?\s+(?:on\s+)?", re.I
)
Key = tuple[int, int, int]
Claim = tuple[tuple[int, int], float, Candidate]  # ((slot distance, char gap), weight, cand)


# A numeric date whose slashes OCR read as 7s or 1s ("0172872021"): a run of digits that says
# nothing by itself, so it is read as a date only where a date label puts it.
_SLASHES_LOST = re.compile(r"(?<!\d)(\d{2})[17](\d{2})[17]((?:19|20)\d{2})(?!\d)")


def _slashes_lost(text: str, start: int) -> list[Span]:
    m = _SLASHES_LOST.search(text, start)
    if m is None or text[start : m.start()].strip(" :;.,"):
        return []
    try:
        return [Span(dt.date(int(m[3]), int(m[1]), int(m[2])), m.start(), m.end())]
    except ValueError:
        return []


def _dates_from(page: Page, line: Line, start: int) -> tuple[list[Span], Line]:
    spans = [s for s in find_dates(line.text) if s.start >= start] or _slashes_lost(
        line.text, start
    )
    if spans:
        return spans, line
    below = Context.next_line(page, line)
    if below is None:
        return [], line
    if not line.text[start:].strip():
        # "... you must pay $6,667.61 by | February 16, 2023.": the label ends the line and the
        # sentence runs on with the date
        spans = [s for s in find_dates(below.text) if not below.text[: s.start].strip()]
        return spans[:1], below
    # "... hear from us by April 8," / "2019 at 1-800-..." : a date broken over two lines.
    joined = line.text + " " + below.text
    spans = [s for s in find_dates(joined) if start <= s.start < len(line.text)]
    return spans, line


def _claims(ctx: Context, role: str) -> dict[Key, Claim]:
    """Date occurrences claimed by labels of `role`, keyed by (page, line id, start)."""
    out: dict[Key, Claim] = {}
    for page, i, line, hit in ctx.labelled(role):
        weak = hit.weight < 0.5  # "by", "before": only a date right after them on the line
        for slot in ctx.slots(page, i, hit.end, rows_below=0 if weak else 2):
            spans, value_line = _dates_from(page, slot.line, slot.start)
            if not spans:
                continue
            span = spans[0]
            gap = span.start - hit.end if slot.distance == 0 else 0
            if slot.distance == 0 and _TIME_OF_DAY.fullmatch(line.text[hit.end : span.start]):
                gap = 1  # "paid by 5:00 PM on August 15, 2019": the hour is part of the deadline
            if slot.distance == 0 and gap > (6 if weak else 40):
                break
            score = hit.weight * DECAY.get(slot.distance, 0.6)
            end = min(span.end, len(value_line.text))
            conf = value_line.span_confidence(span.start, end)
            key = (page.number, id(value_line), span.start)
            cand = Candidate(
                span.value,
                score * (0.5 + 0.5 * conf),
                page.number,
                value_line.span_bbox(span.start, end),
                line.text if slot.distance == 0 else f"{line.text} | {value_line.text}",
                role,
            )
            claim: Claim = ((slot.distance, gap), hit.weight, cand)
            if key not in out or _beats(claim, out[key]):
                out[key] = claim
            break  # the nearest slot with a date is the one this label owns
    return out


def _beats(a: Claim, b: Claim) -> bool:
    return (a[0], -a[1]) < (b[0], -b[1])


def _ranked(ctx: Context, role: str) -> list[Candidate]:
    mine = _claims(ctx, role)
    others = [_claims(ctx, r) for r in ("notice_date", "response_date")]
    distractors = _claims(ctx, "distractor_date")
    ranked: list[Candidate] = []
    for key, claim in mine.items():
        if any(key in o and o[key] is not claim and _beats(o[key], claim) for o in others):
            continue
        # A tie goes to the distractor: "Our notice dated January 21" is "dated" for a
        # notice-date label and "notice dated" (an earlier notice) for the distractor.
        if key in distractors and not _beats(claim, distractors[key]):
            continue
        ranked.append(claim[2])
    # Agreement: the same date claimed in several places (header and stub) is surer.
    for c in ranked:
        same = sum(1 for d in ranked if d.value == c.value)
        c.confidence = min(1.0, c.confidence + 0.05 * (same - 1))
    ranked.sort(key=lambda c: (-c.confidence, c.page, c.bbox[1]))
    return ranked


def _with_rival(ranked: list[Candidate]) -> Candidate:
    top = ranked[0]
    rivals = [c.value for c in ranked[1:] if c.value != top.value and c.confidence >= 0.6]
    if rivals:
        top.rival = rivals[0]
        top.confidence = min(top.confidence, 0.85)
    return top


def _overlaps_text(page: Page, line: Line) -> bool:
    x0, y0, x1, y1 = line.bbox
    return any(
        o is not line and o.bbox[0] < x1 and o.bbox[2] > x0 and o.bbox[1] < y1 and o.bbox[3] > y0
        for o in page.lines
    )


def notice_date(ctx: Context) -> Candidate | None:
    ranked = _ranked(ctx, "notice_date")
    if ranked:
        return _with_rival(ranked)
    # Unlabelled letter date (ACS and field letters): a lone date high on page 1 that no other
    # label claims.
    claimed = {k for r in ("response_date", "distractor_date") for k in _claims(ctx, r)}
    page = ctx.doc.pages[0]
    for line in page.lines:
        if line.bbox[1] > page.height * 0.35:
            break
        for span in find_dates(line.text):
            if (page.number, id(line), span.start) in claimed:
                continue
            if len(line.text) - (span.end - span.start) > 12:
                continue  # a date inside a sentence is not the letter's date
            if _overlaps_text(page, line):
                continue  # a mailroom stamp's date, printed over the letter's lines
            conf = 0.55 * (0.5 + 0.5 * line.span_confidence(span.start, span.end))
            bbox = line.span_bbox(span.start, span.end)
            return Candidate(span.value, conf, page.number, bbox, line.text, "notice_date")
    return None


def response_date(ctx: Context, notice: dt.date | None) -> Candidate | None:
    ranked = _ranked(ctx, "response_date")
    plausible = [
        c
        for c in ranked
        # after the notice, and not over a year out (a CSED or a hearing year is another date)
        if notice is None or 0 < (c.value - notice).days <= 400
    ]
    if not plausible:
        return None
    top = _with_rival(plausible)
    # A deadline label's date that cannot follow the notice ("by 09/30/2020" on a notice read
    # as 2026) says one of the two dates is misread: the deadline kept may be the wrong one.
    early = [
        c for c in ranked if c not in plausible and c.confidence >= 0.6 and c.value < top.value
    ]
    if early and top.rival is None:
        top.rival = early[0].value
        top.confidence = min(top.confidence, 0.85)
    return top


_DATE_NEXT = re.compile(
    r"\s*(?:$|[:\d]|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b)", re.I
)


def unread_deadlines(ctx: Context) -> list[str]:
    """Deadline labels ("Amount due by", "Last day to petition") that a date should follow,
    printed where no response date was read: the date is there but unreadable.

    "Pay by phone" and "contact us by mail" name a way, not a time, so the label counts only
    when a date's shape (a digit, a month) or the line's end comes next.
    """
    return [
        line.text[hit.start : hit.end]
        for _page, _i, line, hit in ctx.labelled("response_date")
        if hit.weight >= 0.9 and _DATE_NEXT.match(line.text[hit.end :])
    ]
