"""The notice or letter code, checked against the catalog's closed list.

Letters print their own code in the reference box and on the stub, and mention other codes in
the body ("we sent you a CP14"); a labelled code high on the page, repeated, wins.
"""

from __future__ import annotations

import re
from collections import defaultdict

from ingest.catalog import load_catalog

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


def _normalise(raw: str) -> str:
    m = re.match(r"(?i)(CP|LT)\s?-?(\w+)", raw)
    if m:
        body = m[2]
        digits = re.match(r"[0-9OIlSB]+", body)
        head = digits[0].translate(_OCR_DIGITS) if digits else ""
        return f"{m[1].upper()}{head}{body[len(head) :].upper()}"
    return raw


def notice_code(ctx: Context) -> tuple[Candidate | None, bool]:
    """Best code and whether the catalog knows it."""
    catalog = load_catalog()
    scores: dict[str, list[Candidate]] = defaultdict(list)
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
            prefix = "Letter " if bare_number else ""
            text = prefix + _normalise(raw.lstrip("Ll") if bare_number else raw)
            canonical = catalog.canonical(text)
            if canonical is None:
                if not labelled or bare_number:
                    continue
                canonical = text.upper().replace(" ", "")
            score = 0.45
            score += 0.25 if labelled else 0.0
            if line.bbox[1] < page.height * 0.3:
                score += 0.15
            if line.bbox[0] > page.width * 0.45:
                score += 0.1
            if page.number > 1:
                score -= 0.1
            score *= 0.6 + 0.4 * line.span_confidence(m.start("code"), m.end("code"))
            scores[canonical].append(
                Candidate(
                    canonical,
                    score,
                    page.number,
                    line.span_bbox(m.start(), m.end()),
                    line.text[max(0, m.start() - 20) : m.end() + 20].strip(),
                    "notice_code",
                )
            )
    if not scores:
        return None, False

    def strength(cs: list[Candidate]) -> float:
        return max(c.confidence for c in cs) + 0.05 * min(len(cs) - 1, 4)

    best = max(scores.values(), key=strength)
    top = max(best, key=lambda c: c.confidence)
    top.confidence = min(1.0, strength(best))
    return top, catalog.get(top.value) is not None
