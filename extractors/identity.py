"""Who the letter is for: the last four digits of the SSN/EIN/ITIN and the addressee's name.

Only the last four digits ever leave this module; a full number printed on an old letter is cut
here, before anything can log or store it.
"""

from __future__ import annotations

import re

from ingest.document import Line

from .base import Candidate, Context

# Mask characters as printed, and as OCR reads a faxed mask ("XXX-XXK-3135": an X doubled into
# XK) and its dashes ("***-**.9071").
_TIN = re.compile(
    r"(?<![\w-])(?:[X*#•\d]{3}[-. ]?[X*#•\d]{2}K?[-. ]?|[X*#•\d]{2}[-. ]?[X*#•\d]{3}[-. ]?)"
    r"(?P<last>[0-9OIlSB]{4})(?![\w-])",
    re.IGNORECASE,
)
_DIGIT_FIX = str.maketrans({"O": "0", "I": "1", "l": "1", "S": "5", "B": "8"})
_CITY_LINE = re.compile(r"\b[A-Z][A-Za-z .'-]+,?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?\s*$")
_STREET = re.compile(r"^(?:\d+[A-Z]?\s+\S+|P\.?\s?O\.?\s+BOX|PO BOX|\d+\s*$|C/O\b)", re.I)
_SENDER = re.compile(r"internal revenue|treasury|\birs\b|department|service", re.IGNORECASE)
_NOT_NAME = re.compile(
    r"internal revenue|department of the treasury|irs\b|treasury|service center|certified|"
    r"return receipt|requested|support\b|department|processing|collections?\b|center\b|"
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
    """The first line of the addressee block: name lines over a street line over a city line.

    The IRS's own return address has the same shape, so a block headed by the Treasury or the
    IRS is skipped; "CERTIFIED MAIL" and similar lines above the name are not names.
    """
    page = ctx.doc.pages[0]
    lines = page.lines
    for idx, line in enumerate(lines):
        if line.bbox[1] > page.height * 0.6:
            break
        if not _CITY_LINE.search(line.text) or line.bbox[0] > page.width * 0.55:
            continue
        block = _block_above(lines, idx, 5)
        if len(block) < 2 or not _STREET.match(block[-1].text):
            continue
        names: list[Line] = []
        for ln in reversed(block[:-1]):  # upward from the street line while lines read as names
            if not _name_like(ln.text):
                break
            names.insert(0, ln)
        above = block[: len(block) - 1 - len(names)]
        if not names or any(_SENDER.search(ln.text) for ln in above[-2:]):
            continue
        name = names[0]
        text = re.sub(r"(?<=\w) [|] (?=\w)", " I ", name.text)  # OCR reads a middle "I" as "|"
        text = re.sub(r"\s+", " ", text).strip()
        conf = 0.85 * (0.6 + 0.4 * name.confidence)
        return Candidate(text, conf, page.number, name.bbox, text, "taxpayer_name")
    return None


def _name_like(text: str) -> bool:
    letters = sum(c.isalpha() for c in text)
    digits = sum(c.isdigit() for c in text)
    return letters >= 3 and digits <= 2 and not _NOT_NAME.search(text)


def _block_above(lines: list[Line], idx: int, most: int) -> list[Line]:
    """Lines stacked directly above line `idx`, left-aligned with it and without a wide gap.

    Geometry, not row numbers: a reference box beside the address adds rows in between.
    """
    target = lines[idx]
    height = target.bbox[3] - target.bbox[1]
    aligned = sorted(
        (
            ln
            for ln in lines
            if abs(ln.bbox[0] - target.bbox[0]) < 25 and ln.bbox[3] <= target.bbox[1] + 2
        ),
        key=lambda ln: -ln.bbox[3],
    )
    block: list[Line] = []
    top = target.bbox[1]
    for ln in aligned:
        if top - ln.bbox[3] > 1.2 * height:
            break
        block.insert(0, ln)
        top = ln.bbox[1]
        if len(block) == most:
            break
    return block
