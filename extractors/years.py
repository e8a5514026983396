"""Every tax year or period the letter covers, from the labels and tables that name them."""

from __future__ import annotations

import re

from ingest.document import BBox, Line, Page

from .base import Candidate, Context, LabelHit, in_prose
from .parse import find_dates, find_years

_FORM_YEAR = re.compile(r"(?<![\d/])((?:19|20)\d{2})\s+Form\s+\d", re.IGNORECASE)
_PERIOD_LABEL = re.compile(r"p[ea]r[il1|]o[dc]|end|quarter", re.IGNORECASE)  # OCR: "Perlod"
# A period end whose month or day OCR mangled into no date; only its year is wanted.
_BROKEN_DATE = re.compile(r"(?<![\d/])\d{1,2}/\d{1,2}/((?:19|20)\d{2})(?![\d/])")
_DATE_SHAPE = re.compile(r"\d{1,2}\s?/\s?\S{1,2}\s?/\s?\S{2,4}")
_NOT_TAX_YEAR = re.compile(r"rev\.?|cat\.?\s*no|publication|pub\.|copyright|©", re.IGNORECASE)


def _values(text: str, start: int, *, dates: bool = True) -> list[tuple[int, int, int]]:
    """(year, start, end) of period dates and bare years in `text` from `start`."""
    out: list[tuple[int, int, int]] = []
    found = [d for d in find_dates(text) if d.start >= start]
    if dates:
        out += [(d.value.year, d.start, d.end) for d in found]  # type: ignore[attr-defined]
        for m in _BROKEN_DATE.finditer(text, start):  # "42/31/2015": the year is still legible
            if not any(d.start <= m.start() < d.end for d in found):
                out.append((int(m[1]), m.start(), m.end()))
    for y in find_years(text):
        if y.start >= start and not any(d.start <= y.start < d.end for d in found):
            prefix = text[max(0, y.start - 12) : y.start]
            if not _NOT_TAX_YEAR.search(prefix):
                out.append((int(y.value), y.start, y.end))  # type: ignore[call-overload]
    return sorted(out, key=lambda v: v[1])


# Individual income tax returns: their year has ended before anything about it is assessed.
INCOME_TAX_FORMS = frozenset(
    {"1040", "1040-SR", "1040SR", "1040-NR", "1040NR", "1040X", "1040-X", "1040A", "1040EZ"}
)


def tax_years(ctx: Context, latest: int | None, year_ended: bool = False) -> Candidate:
    """Years owned by tax-year and tax-period labels, table columns under them, and "your 2021
    Form 1040"; never later than the notice's own year, nor (`year_ended`: an income tax
    return's year, filed after it ends) in the notice's own year when an earlier one is read:
    "2015" read "2018" on a fax of a letter dated 2018, or a deadline's year taken for one."""
    years: dict[int, float] = {}
    seen: dict[int, int] = {}
    first: Candidate | None = None
    unreadable_row = False

    def read(
        year: int, conf: float, page: int, box: BBox, evidence: str, *, lift: bool = True
    ) -> None:
        """A year read with this confidence (`lift`: raising a weaker reading of it); the first
        year read gives the field its place and evidence."""
        nonlocal first
        years[year] = max(years.get(year, 0.0), conf) if lift else years.get(year, conf)
        seen[year] = seen.get(year, 0) + 1
        if first is None:
            first = Candidate([], conf, page, box, evidence, "tax_years")

    for page, i, line, hit in ctx.labelled("tax_year"):
        # A date under a "Tax year" header is some other field's value (the notice date);
        # only period labels ("Tax period ended") own the dates below them.
        periodic = bool(_PERIOD_LABEL.search(line.text[hit.start : hit.end]))
        prose = in_prose(line.text, hit.start, hit.end)
        for slot in ctx.slots(page, i, hit.end, rows_below=2):
            if prose and slot.distance == 1:
                continue  # "... for this tax year, then ..." owns no cell beside the sentence
            ended = prose and slot.distance == 2 and bool(_ENDED.match(slot.line.text))
            vals = _values(slot.line.text, slot.start, dates=slot.distance < 2 or periodic or ended)
            if prose and slot.distance >= 2:
                vals = _run_on(line.text, slot.line.text, vals) if slot.distance == 2 else []
            if slot.distance == 0 and not vals:
                below = ctx.next_line(page, line)
                if below is not None:  # "the tax year ended December 31," / "2020 (Form 1040)"
                    joined = f"{line.text} {below.text}"
                    vals = [v for v in _values(joined, slot.start) if v[1] < len(line.text)]
                    vals = [(y, s, min(e, len(line.text))) for y, s, e in vals]
            if slot.distance == 0 and vals and vals[0][1] - hit.end > 30:
                vals = []
            if not vals:
                # a period cell under its header shaped like a date but none ("12/31/2G19")
                shaped = bool(_DATE_SHAPE.search(slot.line.text))
                unreadable_row = unreadable_row or periodic and slot.distance >= 2 and shaped
                continue
            rows = [slot.line]
            labels = [(h.start, h.end) for h in ctx.hits(line) if h.weight >= 0.8]
            if slot.distance >= 2 and _is_header(line, hit, labels):
                below, garbled = _column_below(page, slot.line)  # a table: keep reading down
                rows += below
                unreadable_row = unreadable_row or garbled
            if slot.distance >= 2:
                unreadable_row = unreadable_row or _cell_lost_below(page, rows[-1])
            elif not prose:
                unreadable_row = unreadable_row or _unreadable_item(slot.line.text[slot.start :])
            for row in rows:
                for year, s, e in vals if row is slot.line else _values(row.text, 0)[:1]:
                    conf = hit.weight * (0.6 + 0.4 * row.span_confidence(s, e))
                    read(year, conf, page.number, row.span_bbox(s, e), line.text)
            break
    for page, i, line in ctx.doc.lines():
        row = _form_row_period(ctx, page, i, line)
        if row is not None:
            year, conf, cell, (s, e) = row
            read(year, conf, page.number, cell.span_bbox(s, e), line.text)
        for m in _FORM_YEAR.finditer(line.text):
            box = line.span_bbox(m.start(), m.end())
            read(int(m[1]), 0.6, page.number, box, line.text, lift=False)
    kept = sorted(y for y in years if 1990 <= y <= (latest or 2100))
    if not kept or first is None:
        return Candidate([], 0.5, 1, (0, 0, 0, 0), "", "tax_years")
    # A period read that cannot be one ("12/31/2049" on a letter of 2021) is a misread year:
    # the year it should have been may be missing from the list.
    unreadable_row = unreadable_row or len(kept) < len(years)
    early = [y for y in kept if latest is None or y < latest]
    misread = year_ended and len(early) < len(kept) and bool(early)
    kept = early if misread else kept
    first.value = kept
    # A year read once, beside others that recur (header, stub, body), is the likeliest slip.
    single = len(kept) > 1 and any(seen.get(y, 0) < 2 for y in kept)
    first.confidence = min(years[y] for y in kept) * (0.85 if single or misread else 1.0)
    if unreadable_row:  # a period row the OCR mangled may hold a year we could not read
        first.confidence *= 0.75
    return first


# A table row opens with its return's form ("Form 941 | 06/30/2023 | 21,473.90"): the date in
# the next cell is the period the row covers, header read or not (a faded header is often lost).
_FORM_CELL = re.compile(r"^\W*Form\s+\d{3,4}(?:-?[A-Z]{1,2})?\b\W*", re.IGNORECASE)
FORM_ROW_WEIGHT = 0.75


def _form_row_period(
    ctx: Context, page: Page, index: int, line: Line
) -> tuple[int, float, Line, tuple[int, int]] | None:
    """(year, confidence, line, span) of the period date beside a table row's form cell."""
    m = _FORM_CELL.match(line.text)
    if m is None:
        return None
    cells = [(line, m.end())] if m.end() < len(line.text) else []
    cells += [(s.line, 0) for s in ctx.slots(page, index, len(line.text)) if s.distance == 1]
    for cell, start in cells:
        dates = find_dates(cell.text)
        if dates and dates[0].start >= start and not cell.text[start : dates[0].start].strip():
            d = dates[0]
            conf = FORM_ROW_WEIGHT * (0.6 + 0.4 * cell.span_confidence(d.start, d.end))
            return d.value.year, conf, cell, (d.start, d.end)  # type: ignore[attr-defined]
        if cell is line:
            return None  # the form cell runs on into words: prose, not a row
    return None


_ENDED = re.compile(r"\W*end(?:ed|ing)\b", re.IGNORECASE)
_LEAD_IN = re.compile(r"\W*(?:end(?:ed|ing)\s+)?$", re.IGNORECASE)
_JOINED = re.compile(r"\s*(?:,|;|&|and|through|to|-)?\s*$", re.IGNORECASE)
_MONTH_DAY_END = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s*$", re.IGNORECASE
)


def _run_on(
    label_line: str, below: str, vals: list[tuple[int, int, int]]
) -> list[tuple[int, int, int]]:
    """A label in a sentence owns a value on the next row only where the sentence runs on into
    it: at that line's start ("... for the tax year" / "ended December 31, 2013 ..."). A year
    there that completes a date broken at the line's end ("... by August 30," / "2016, the
    ...") is that date's, not a tax year; and a year further down is another sentence's."""
    if _MONTH_DAY_END.search(label_line) or not vals or not _LEAD_IN.match(below[: vals[0][1]]):
        return []
    out = vals[:1]
    for v in vals[1:]:  # "2013 and 2014", "2019, 2020": a list of years runs on too
        if not _JOINED.match(below[out[-1][2] : v[1]]):
            break
        out.append(v)
    return out


def _is_header(line: Line, hit: LabelHit, labels: list[tuple[int, int]]) -> bool:
    """The label is a table header cell (the line holds little else but other labels: "Tax form
    Tax period ending" read as one line), not words in a sentence: only a header's column goes
    on down ("for the tax period(s)" / "ended December 31, 2016." / "If we don't receive ... by
    December 6, 2023" is prose, and its next date is a deadline)."""
    rest = list(line.text)
    for s, e in [(hit.start, hit.end), *labels]:
        rest[s:e] = [" "] * (e - s)
    return len(re.sub(r"[^A-Za-z]", "", "".join(rest))) <= 3


_GARBLED_ITEM = re.compile(r"[A-Z0-9]{2,5}")


def _unreadable_item(cell: str) -> bool:
    """A list of years in a cell with an item that reads as no year ("WW, 2021, 2022", "2019,
    2626"): OCR lost a year there."""
    vals = _values(cell, 0)
    for _y, s, e in reversed(vals):
        cell = cell[:s] + "," + cell[e:]
    items = [i.strip() for i in re.split(r"[,;&]", cell)]
    return bool(vals) and any(_GARBLED_ITEM.fullmatch(i) for i in items)


def _cell_lost_below(page: Page, cell: Line) -> bool:
    """The table's next row has a date cell in another column but nothing readable under this
    cell: OCR lost a period there ("12/31/2012" / "a TBA", beside "07/28/2013" / "10/05/2014")."""
    x0, _, x1, _ = cell.bbox
    row = [ln for ln in page.lines if ln.row == cell.row + 1]
    under = any(ln.bbox[0] < x1 and ln.bbox[2] > x0 and re.search(r"\d", ln.text) for ln in row)
    return not under and any(_date_cell(ln.text) for ln in row)


def _date_cell(text: str) -> bool:
    """The text is one date and nothing else: a table cell, not a sentence holding a date."""
    dates = find_dates(text.strip())
    return len(dates) == 1 and dates[0].start == 0 and dates[0].end >= len(text.strip()) - 1


def _column_below(page: Page, header_line: Line) -> tuple[list[Line], bool]:
    """Lines below a table cell in the same column, while they keep holding a date or year and
    stay cell-sized (a sentence below the table is not one of its rows); and whether the column
    ended on a row of digits that reads as no date ("81/2010 0R/2ON."), a row lost to OCR."""
    x0, _, x1, _ = header_line.bbox
    out: list[Line] = []
    for ln in page.lines:
        if ln.row <= header_line.row or ln.row > header_line.row + 12:
            continue
        if ln.bbox[2] < x0 - 10 or ln.bbox[0] > x1 + 10:
            continue
        vals = _values(ln.text, 0)
        if not vals or len(re.sub(r"[^A-Za-z]", "", ln.text)) > 24:
            garbled = not vals and len(re.findall(r"\d", ln.text)) >= 4
            return out, garbled
        if re.search(r"[A-Za-z]{2}", ln.text[: vals[0][1]]):
            # "Amount due by August 25, 2017": a sentence, not a period cell; but a date right
            # under the column on the table's next row ("1040 A Wend 12/31/2015") is a row whose
            # cells OCR ran together: a period there may be lost.
            above = out[-1].row if out else header_line.row
            boxes = [ln.span_bbox(s, e) for _y, s, e in vals]
            return out, ln.row == above + 1 and any(b[0] < x1 and b[2] > x0 for b in boxes)
        out.append(ln)
    return out, False
