"""Who the letter is for: the last four digits of the SSN/EIN/ITIN and the addressee's name.

Only the last four digits ever leave this module; a full number printed on an old letter is cut
here, before anything can log or store it.
"""

from __future__ import annotations

import re

from ingest.document import Line

from .base import Candidate, Context

_TIN = re.compile(
    r"(?<![\w-])(?:[X*#•\d]{3}[- ]?[X*#•\d]{2}[- ]?|[X*#•\d]{2}[- ]?[X*#•\d]{3}[- ]?)"
    r"(?P<last>[0-9OIlSB]{4})(?![\w-])",
    re.IGNORECASE,
)
_DIGIT_FIX = str.maketrans({"O": "0", "I": "1", "l": "1", "S": "5", "B": "8"})
_CITY_LINE = re.compile(r"\b[A-Z][A-Za-z .'-]+,?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?\s*$")
_STREET = re.compile(r"^(?:\d+[A-Z]?\s+\S+|P\.?\s?O\.?\s+BOX|PO BOX|\d+\s*$|C/O\b)", re.I)
_NOT_NAME = re.compile(
    r"internal revenue|department of the treasury|irs\b|treasury|service center|"
    r"p\.?\s?o\.?\s+box|notice|letter|tax year|phone|page \d|social security|caller id|"
    r"amount|payment|bureau|unit\b|records\b|county",
    re.IGNORECASE,
)


def taxpayer_id_last4(ctx: Context) -> Candidate | None:
    best: Candidate | None = None
    for page, i, line, hit in ctx.labelled("taxpayer_id"):
        for slot in ctx.slots(page, i, hit.end, rows_below=1):
            m = _TIN.search(slot.line.text, slot.start)
            if not m or (slot.distance == 0 and m.start() - hit.end > 25):
                continue
            last = m["last"].translate(_DIGIT_FIX)
            if not last.isdigit():
                continue
            conf = hit.weight * (0.6 + 0.4 * slot.line.span_confidence(m.start(), m.end()))
            if best is None or conf > best.confidence:
                masked = "***-**-" + last
                best = Candidate(
                    last,
                    conf,
                    page.number,
                    slot.line.span_bbox(m.start(), m.end()),
                    f"{line.text[: hit.end]} {masked}",
                    "taxpayer_id_last4",
                )
            break
    return best


def taxpayer_name(ctx: Context) -> Candidate | None:
    """The first line of the addressee block: a name over a street line over a city line."""
    page = ctx.doc.pages[0]
    lines = page.lines
    for idx, line in enumerate(lines):
        if line.bbox[1] > page.height * 0.6:
            break
        if not _CITY_LINE.search(line.text) or line.bbox[0] > page.width * 0.55:
            continue
        block = _block_above(lines, idx)
        if len(block) < 2 or not _STREET.match(block[-1].text):
            continue
        names: list[Line] = []
        for ln in reversed(block[:-1]):  # upward from the street line while lines read as names
            if not _name_like(ln.text):
                break
            names.insert(0, ln)
        if not names:
            continue
        name = names[0]
        text = re.sub(r"\s+", " ", name.text).strip()
        conf = 0.85 * (0.6 + 0.4 * name.confidence)
        return Candidate(text, conf, page.number, name.bbox, text, "taxpayer_name")
    return None


def _name_like(text: str) -> bool:
    letters = sum(c.isalpha() for c in text)
    digits = sum(c.isdigit() for c in text)
    return letters >= 3 and digits <= 2 and not _NOT_NAME.search(text)


def _block_above(lines: list[Line], idx: int) -> list[Line]:
    """Up to three lines stacked directly above line `idx`, left-aligned with it."""
    target = lines[idx]
    block: list[Line] = []
    row = target.row
    for ln in reversed(lines[:idx]):
        if ln.row >= row:
            continue
        if ln.row < row - 1:
            break
        if abs(ln.bbox[0] - target.bbox[0]) < 25:
            block.insert(0, ln)
            row = ln.row
            if len(block) == 3:
                break
    # Keep only the contiguous left-aligned run ending just above the city line.
    return block
