"""The tax form the letter is about (1040, 941, ...), not the forms it encloses (12153, 9465).

Only return forms count, so enclosures never compete. A form under a "Tax form" or "Type of tax"
header or after "the form number (1040)" is taken first; otherwise the return form the letter
names most often.
"""

from __future__ import annotations

import re
from collections import Counter

from .base import Candidate, Context

RETURN_FORMS = (
    r"1040-?(?:SR|NR|X|SS|PR)?|1040A|1040EZ|94[0-5]|1120-?(?:S|F|H|POL)?|1065|1041|990(?:-?T)?|"
    r"720|2290|CT-1|706|709|1042|5330"
)
_FORM_TOKEN = re.compile(r"(?<![\w-])\(?(?P<f>" + RETURN_FORMS + r")\b(?!-\d)", re.IGNORECASE)
_FORM = re.compile(r"\bForm\s+(?P<f>" + RETURN_FORMS + r")\b(?!-\d)", re.IGNORECASE)


def tax_form(ctx: Context) -> Candidate | None:
    labelled: list[Candidate] = []
    for page, i, line, hit in ctx.labelled("tax_form"):
        for slot in ctx.slots(page, i, hit.end, rows_below=2):
            m = _FORM_TOKEN.search(slot.line.text, slot.start)
            if m is None or (slot.distance == 0 and m.start() - hit.end > 4):
                continue
            f = m["f"].upper()
            conf = hit.weight * (0.6 + 0.4 * slot.line.span_confidence(m.start(), m.end()))
            labelled.append(
                Candidate(
                    f,
                    conf,
                    page.number,
                    slot.line.span_bbox(m.start(), m.end()),
                    line.text if slot.distance == 0 else f"{line.text} | {slot.line.text}",
                    "tax_form",
                )
            )
            break
    labelled += _cut_label(ctx)
    counts: Counter[str] = Counter(c.value for c in labelled)
    strong = [c for c in labelled if c.confidence >= 0.6]
    if strong:
        best = max(strong, key=lambda c: (c.confidence, counts[c.value]))
        best.confidence = min(1.0, best.confidence + 0.05 * (counts[best.value] - 1))
        return best
    mentions: dict[str, Candidate] = {}
    for page, _i, line in ctx.doc.lines():
        for m in _FORM.finditer(line.text):
            f = m["f"].upper()
            counts[f] += 1
            mentions.setdefault(
                f,
                Candidate(
                    f, 0.0, page.number, line.span_bbox(m.start(), m.end()), line.text, "tax_form"
                ),
            )
    if not mentions:
        return max(labelled, key=lambda c: c.confidence) if labelled else None
    form = max(mentions, key=lambda f: counts[f])
    cand = mentions[form]
    cand.confidence = min(0.9, 0.5 + 0.1 * counts[form])
    return cand


# "... the tax year (2017), and form" / "number (1040) on your payment.": the stub's "form
# number" label cut by the line's end, its value opening the next line.
_FORM_AT_END = re.compile(r"\bform\s*$", re.IGNORECASE)
_NUMBER_OPENS = re.compile(r"^\s*number\s*\((?P<f>" + RETURN_FORMS + r")\)", re.IGNORECASE)


def _cut_label(ctx: Context) -> list[Candidate]:
    out: list[Candidate] = []
    for page, _i, line in ctx.doc.lines():
        below = ctx.next_line(page, line) if _FORM_AT_END.search(line.text) else None
        m = _NUMBER_OPENS.match(below.text) if below is not None else None
        if below is None or m is None:
            continue
        conf = 0.6 + 0.4 * below.span_confidence(m.start("f"), m.end("f"))
        box = below.span_bbox(m.start("f"), m.end("f"))
        out.append(
            Candidate(
                m["f"].upper(), conf, page.number, box, f"{line.text} {below.text}", "tax_form"
            )
        )
    return out
