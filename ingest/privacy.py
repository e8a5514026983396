"""Never a full SSN, EIN or ITIN in output: every number shaped like one keeps its last four.

Applied where text leaves the pipeline (field evidence, scam evidence), so no later stage can
forget it. Length-preserving, so offsets computed on the original text stay valid.
"""

from __future__ import annotations

import re

# 123-45-6789, 123 45 6789, 123456789 (SSN/ITIN) and 12-3456789 (EIN), not inside longer numbers.
_ID_NUMBER = re.compile(r"(?<![\d*-])(?:\d{3}([ -])\d{2}\1\d{4}|\d{9}|\d{2}-\d{7})(?![\d*]|-\d)")


def _mask(m: re.Match[str]) -> str:
    s = m.group()
    total = sum(c.isdigit() for c in s)
    out, seen = [], 0
    for c in s:
        if c.isdigit():
            seen += 1
            out.append(c if seen > total - 4 else "*")
        else:
            out.append(c)
    return "".join(out)


def mask_ids(text: str) -> str:
    """Every 9-digit SSN/EIN/ITIN-looking number keeps only its last four digits."""
    return _ID_NUMBER.sub(_mask, text)
