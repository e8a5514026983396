"""The notice or letter code, checked against the catalog's closed list.

Letters print their own code in the reference box and on the stub, and mention other codes in
the body ("we sent you a CP14"); a labelled code high on the page, repeated, wins.
"""

from __future__ import annotations

import re
from collections import defaultdict

from ingest.catalog import load_catalog
from ingest.document import Line, Page

from .base import Candidate, Context

_CODE = re.compile(
    r"(?P<pre>\b(?:notice(?:\s+(?:number|name|no\.?))?|letter(?:\s+(?:number|no\.?))?|ltr|"
    r"number\s+of\s+this\s+letter)\s*[:#]?\s*)?"
    r"(?P<code>\b(?:CP|LT)\s?-?[0-9OIlSB]{2,4}[A-Z]{0,2}\b"
    r"|(?<=\s)L?\d{3,4}[A-Z]?(?:\s?\((?:DO|SC|CG)\))?\b"
    r"|\bForm\s+668-?[AW](?:\((?:ICS|ACS|c)\))?)",
    re.IGNORECASE,
)
_OCR_DIGITS = str.maketrans({"O": "0", "I": "1", "l": "1", "S": "5", "B": "8"})
_LABEL_ABOVE = re.compile(r"(notice|letter|ltr|notice number|notice name)\s*:?\s*$", re.I)


def _readings(raw: str) -> list[str]:
    """The code as printed, then with OCR's letter-for-digit slips repaired in its number part.

    "CP134B" must stay CP134B (a real code ending in B), while "CP5O4" can only be CP504; the
    catalog's closed list decides which reading is a code.
    """
    m = re.match(r"(?i)(CP|LT)\s?-?(\w+)", raw)
    if not m:
        return [raw]
    prefix, body = m[1].upper(), m[2].upper()
    readings = [prefix + body]
    digits = re.match(r"[0-9OIlSB]+", m[2])
    if digits:
        fixed = digits[0].translate(_OCR_DIGITS)
        for cut in range(len(fixed), 0, -1):  # keep a trailing letter as a suffix when it may be
            readings.append(prefix + fixed[:cut] + m[2][cut:].upper())
    return list(dict.fromkeys(readings))


def _score(page: Page, line: Line, start: int, end: int, labelled: bool) -> float:
    """Reference boxes sit high on page 1, often on the right; a labelled code is the letter's."""
    score = 0.45 + (0.25 if labelled else 0.0)
    if line.bbox[1] < page.height * 0.3:
        score += 0.15
    if line.bbox[0] > page.width * 0.45:
        score += 0.1
    if page.number > 1:
        score -= 0.1
    return score * (0.6 + 0.4 * line.span_confidence(start, end))


def _token_readings(token: str) -> list[str]:
    """Readings of one OCR token in a code slot: 'CcP40' and 'CPO05' are CP40 and CP05."""
    t = re.sub(r"[^A-Za-z0-9]", "", token)
    m = re.match(r"(?i)^[a-z]?(CP|LT)(\w+)$", t) or re.match(r"(?i)^(CP|LT)(\w+)$", t)
    return _readings(m[1] + m[2]) if m else []


def notice_code(ctx: Context) -> tuple[Candidate | None, bool]:
    """Best code and whether the catalog knows it."""
    catalog = load_catalog()
    scores: dict[str, list[Candidate]] = defaultdict(list)

    def add(code: str, page: Page, line: Line, start: int, end: int, labelled: bool) -> None:
        scores[code].append(
            Candidate(
                code,
                _score(page, line, start, end, labelled),
                page.number,
                line.span_bbox(start, end),
                line.text[max(0, start - 20) : end + 20].strip(),
                "notice_code",
            )
        )

    # A code in the slot of a "Notice" / "Notice number" / "Letter" label, however mangled.
    for page, i, _line, hit in ctx.labelled("code_label"):
        for slot in ctx.slots(page, i, hit.end, rows_below=1):
            m = re.match(r"\s*[:#]?\s*(\S+(?:\s\S+)?)", slot.line.text[slot.start :])
            if not m:
                continue
            start = slot.start + m.start(1)
            first = m[1].split()[0]
            texts = _token_readings(first) + _token_readings(m[1].replace(" ", ""))
            code = next((c for c in map(catalog.canonical, texts) if c), None)
            if code is not None:
                add(code, page, slot.line, start, start + len(first), True)
                break

    for page, i, line in ctx.doc.lines():
        for m in _CODE.finditer(line.text):
            raw = m["code"]
            bare_number = raw[:1].isdigit() or raw[:1] in "Ll" and raw[1:2].isdigit()
            labelled = bool(m["pre"])
            if not labelled and i > 0:
                above = [ln for ln in page.lines if ln.row == line.row - 1]
                labelled = any(_LABEL_ABOVE.search(ln.text) for ln in above) and m.start() < 3
            if bare_number and not labelled:
                continue
            texts = ["Letter " + raw.lstrip("Ll")] if bare_number else _readings(raw)
            canonical = next((c for c in map(catalog.canonical, texts) if c), None)
            if canonical is None:
                if not labelled or bare_number:
                    continue
                canonical = texts[0].upper().replace(" ", "")
            add(canonical, page, line, m.start("code"), m.end("code"), labelled)
    if not scores:
        return None, False

    def strength(cs: list[Candidate]) -> float:
        return max(c.confidence for c in cs) + 0.05 * min(len(cs) - 1, 4)

    best = max(scores.values(), key=strength)
    top = max(best, key=lambda c: c.confidence)
    top.confidence = min(1.0, strength(best))
    return top, catalog.get(top.value) is not None
