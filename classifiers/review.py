"""Review routing: a person looks at a record when a core field is missing, unsure or a warning."""

from __future__ import annotations

from datetime import date, timedelta

from ingest.catalog import NoticeEntry
from ingest.record import CORE_FIELDS, Fields, Review, Scam

# Below this a field is shown but not trusted without a look (calibrated in the accuracy issue).
CONFIDENCE_FLOOR = 0.6
# Per-field floors where the corpus shows a field's scale differs: tax years read once beside
# others, or from a table with a row OCR lost, score 0.65-0.8 and are wrong far more often (on
# five development corpora, 1,100 letters: right 10 times in 15 at 0.7-0.8, 56 in 57 at 0.8-0.9).
FLOORS = {"tax_years": 0.8}
# The IRS may collect for 10 years after assessment (IRC 6502); a letter about a year much older
# than that is far likelier an OCR slip ("2016" read "2006") than a real period.
OLDEST_PLAUSIBLE_YEARS = 15
# A letter is read after it was printed; the IRS dates a notice a few days before mailing it.
# A notice date weeks after the day it is read is a misread digit ("2018" read "2038").
FUTURE_SLACK = timedelta(days=31)


def route(
    fields: Fields,
    entry: NoticeEntry | None,
    scam: Scam,
    *,
    is_irs_letter: bool,
    conflicts: list[str] | None = None,
    today: date | None = None,
) -> Review:
    reasons: list[str] = list(conflicts or [])
    today = today or date.today()
    if not is_irs_letter:
        reasons.append("does not look like an IRS letter")
    if scam.verdict != "genuine":
        reasons.append(f"scam check: {scam.verdict}")
    if fields.notice_code.value is None:
        reasons.append("notice code not found")
    elif entry is None:
        reasons.append(f"notice code {fields.notice_code.value} is not in the catalog")
    if fields.notice_date.value is None:
        reasons.append("notice date not found")
    elif fields.notice_date.value > today + FUTURE_SLACK:
        reasons.append(f"notice date {fields.notice_date.value.isoformat()} is in the future")
    if entry is not None and entry.requests_payment and fields.amount_due.value is None:
        reasons.append(f"{entry.code} normally states an amount due, none was found")
    amount = fields.amount_due.value
    if amount is not None and amount < 0:
        reasons.append(f"amount due is a credit ({amount}): the letter says nothing is owed")
    if (
        fields.notice_date.value is not None
        and fields.response_date.value is not None
        and fields.response_date.value <= fields.notice_date.value
    ):
        reasons.append("response date is not after the notice date")
    reasons += _tax_year_reasons(fields, entry)
    for name in CORE_FIELDS:
        fv = getattr(fields, name)
        if fv.value not in (None, []) and fv.confidence < FLOORS.get(name, CONFIDENCE_FLOOR):
            reasons.append(f"{name} read with low confidence ({fv.confidence:.2f})")
    return Review(needed=bool(reasons), reasons=reasons)


def _tax_year_reasons(fields: Fields, entry: NoticeEntry | None) -> list[str]:
    """Every IRS notice is about a tax period; the periods must fit the notice's own date."""
    years = fields.tax_years.value or []
    if not years:
        return ["no tax year or period found"] if entry is not None else []
    notice = fields.notice_date.value
    if notice is None:
        return []
    out = [f"tax year {y} is after the notice date" for y in years if y > notice.year]
    out += [
        f"tax year {y} is implausibly old for a notice dated {notice.isoformat()}"
        for y in years
        if y < notice.year - OLDEST_PLAUSIBLE_YEARS
    ]
    return out
