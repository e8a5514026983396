"""The tax form the letter is about (1040, 941, ...), not the forms it encloses (12153, 9465)."""

from __future__ import annotations

import re
from collections import Counter

from .base import Candidate, Context

RETURN_FORMS = (
    r"1040-?(?:SR|NR|X|SS|PR)?|1040A|1040EZ|94[0-5]|1120-?(?:S|F|H|POL)?|1065|1041|990(?:-?T)?|"
    r"720|2290|CT-1|706|709|1042|5330"
)
_FORM = re.compile(r"\bForm\s+(?P<f>" + RETURN_FORMS + r")\b", re.IGNORECASE)
_FORM_NUMBER = re.compile(
    r"(?:form number|tax form|kind of tax|type of tax)\s*[:(]?\s*\(?(?P<f>" + RETURN_FORMS + r")\b",
    re.IGNORECASE,
)


def _canon(raw: str) -> str:
    f = raw.upper()
    f = re.sub(r"^(1040|1120)(SR|NR|X|SS|PR|S|F|H|POL)$", r"\1-\2", f)
    return f


def tax_form(ctx: Context) -> Candidate | None:
    counts: Counter[str] = Counter()
    labelled: dict[str, Candidate] = {}
    first: dict[str, Candidate] = {}
    for page, _i, line in ctx.doc.lines():
        for m in _FORM_NUMBER.finditer(line.text):
            f = _canon(m["f"])
            labelled.setdefault(
                f,
                Candidate(
                    f,
                    0.9 * (0.6 + 0.4 * line.confidence),
                    page.number,
                    line.span_bbox(m.start(), m.end()),
                    line.text,
                    "tax_form",
                ),
            )
        for m in _FORM.finditer(line.text):
            f = _canon(m["f"])
            counts[f] += 1
            first.setdefault(
                f,
                Candidate(
                    f, 0.0, page.number, line.span_bbox(m.start(), m.end()), line.text, "tax_form"
                ),
            )
    if labelled:
        return max(labelled.values(), key=lambda c: (counts[c.value], c.confidence))
    if not counts:
        return None
    form, n = counts.most_common(1)[0]
    cand = first[form]
    cand.confidence = min(0.9, 0.55 + 0.1 * n)
    return cand
