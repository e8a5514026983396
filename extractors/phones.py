"""The number the letter tells the reader to call (not fax, TTY, the Advocate or form orders)."""

from __future__ import annotations

from ingest.catalog import load_catalog, phone_digits

from .base import Candidate, Context
from .parse import find_phones

DECAY = {0: 1.0, 1: 0.95, 2: 0.85, 3: 0.7}
NEAR_MISS_CAP = 0.7


def _near_irs(number: str) -> bool:
    """Not a published IRS number, but one or two digits away from one: an OCR slip
    ('860-829-8374', '800-628-7650' for 800-829-7650) or a look-alike. The value is kept as read
    (a scam's number must not be repaired into the IRS's), but it cannot be trusted without a
    look."""
    catalog = load_catalog()
    if catalog.is_irs_phone(number):
        return False
    digits = phone_digits(number) or ""
    for known in catalog.irs_phones:
        other = phone_digits(known.number) or ""
        if len(other) != len(digits):
            continue
        if sum(a != b for a, b in zip(digits, other, strict=True)) <= 2:
            return True
    return False


def irs_phone(ctx: Context) -> Candidate | None:
    best: Candidate | None = None
    best_rank = -1.0
    for page, i, line, hit in ctx.labelled("phone"):
        for slot in ctx.slots(page, i, hit.end, rows_below=1):
            spans = [s for s in find_phones(slot.line.text) if s.start >= slot.start]
            if not spans:
                continue
            span = spans[0]
            if slot.distance == 0 and span.start - hit.end > 45:
                break
            blockers = [
                h
                for h in ctx.hits(slot.line, "not_phone")
                if h.start < span.start and (slot.distance or h.start >= hit.start - 15)
            ]
            if blockers:
                break
            score = hit.weight * DECAY.get(slot.distance, 0.6)
            # The reference box or letterhead names the number for this letter; "call us at"
            # in the body is often a general line.
            header = page.number == 1 and line.bbox[1] < page.height * 0.3
            rank = (score + (0.25 if header else 0.0)) * (
                0.6 + 0.4 * slot.line.span_confidence(span.start, span.end)
            )
            conf = min(rank, 1.0)
            if best is None or rank > best_rank:
                best_rank = rank
                best = Candidate(
                    span.value,
                    min(conf, 1.0),
                    page.number,
                    slot.line.span_bbox(span.start, span.end),
                    slot.line.text[max(0, span.start - 30) : span.end].strip(),
                    "irs_phone",
                )
            break
    if best is not None and _near_irs(best.value):
        best.confidence = min(best.confidence, NEAR_MISS_CAP)
    return best
