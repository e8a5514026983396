"""Field extraction: one extractor per field family, each giving value, confidence, evidence."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.catalog import load_catalog
from ingest.document import Document
from ingest.record import AmountField, Fields, FieldValue

from .base import Candidate, Context, field_from
from .summary import SummaryCheck


@dataclass(slots=True)
class Extraction:
    fields: Fields
    code_known: bool
    conflicts: list[str]  # plain-words disagreements inside the letter, for review


def extract(doc: Document) -> Extraction:
    from . import amounts, codes, dates, forms, identity, phones, summary, years

    ctx = Context(doc)
    code, known = codes.notice_code(ctx)
    notice = dates.notice_date(ctx)
    notice_value = notice.value if notice else None
    response = dates.response_date(ctx, notice_value)
    latest = notice_value.year if notice_value else None
    amount = amounts.amount_due(ctx)
    _agree_with_catalog(code, notice, response)
    checks = summary.billing_checks(ctx)
    if amount is not None and any(
        c.total == amount.value and amount.rival in c.items for c in checks
    ):
        amount.rival = None  # "Amount you owe $8,450.00" heads the summary: a line, not a total
    conflicts = [
        f"{name} reads {c.value} in one place and {c.rival} in another"
        for name, c in [
            ("notice date", notice),
            ("response date", response),
            ("amount due", amount),
        ]
        if c is not None and c.rival is not None
    ]
    conflicts += _check_summary(amount, checks)
    if response is None:
        conflicts += [
            f"a deadline is printed ('{label}') but its date could not be read"
            for label in dates.unread_deadlines(ctx)[:1]
        ]
    form = forms.tax_form(ctx)
    # An income tax return is filed after its year ends: the IRS writes about a Form 1040 year
    # in a later year, never in that year itself.
    after = form is not None and form.value in years.INCOME_TAX_FORMS
    fields = Fields(
        notice_code=FieldValue[str](**field_from(code)),
        notice_date=FieldValue(**field_from(notice)),
        tax_years=FieldValue[list[int]](**field_from(years.tax_years(ctx, latest, after))),
        amount_due=AmountField(**field_from(amount)),
        response_date=FieldValue(**field_from(response)),
        taxpayer_id_last4=FieldValue[str](**field_from(identity.taxpayer_id_last4(ctx))),
        taxpayer_name=FieldValue[str](**field_from(identity.taxpayer_name(ctx))),
        tax_form=FieldValue[str](**field_from(form)),
        irs_phone=FieldValue[str](**field_from(phones.irs_phone(ctx))),
    )
    return Extraction(fields, known, conflicts)


def _check_summary(amount: Candidate | None, checks: list[SummaryCheck]) -> list[str]:
    """Cross-check the amount due against billing summaries; return the disagreements.

    A summary that adds up and prints the amount read makes it surer (two independent readings).
    One that adds up to another total, or does not add up while the amount was read only once,
    means a figure was misread. A summary that does not add up beside an amount the letter
    repeats elsewhere most likely has a misread line item, and is left alone.
    """
    out: list[str] = []
    for check in checks:
        if amount is None:
            if check.adds_up:
                out.append(f"billing summary totals {check.total} but no amount due was read")
            continue
        if check.adds_up and check.total == amount.value:
            amount.confidence = max(amount.confidence, 0.95)
        elif check.adds_up:
            out.append(f"billing summary adds up to {check.total}, not the {amount.value} read")
        elif amount.support < 2:
            out.append(
                f"billing summary items add up to {check.parts}, not its total {check.total}"
            )
    return out


def _agree_with_catalog(
    code: Candidate | None, notice: Candidate | None, response: Candidate | None
) -> None:
    """A printed deadline that sits where the catalog's window puts it is surer: two independent
    readings (the dates and the code) agree."""
    if code is None or notice is None or response is None:
        return
    entry = load_catalog().get(code.value)
    if entry is None or not entry.response_days:
        return
    gap = (response.value - notice.value).days
    # A deadline with a rival reading is left unsure: a page whose 0s all read as 6s can misread
    # the notice date and one reading of its deadline alike ("2020" as "2026"), and they agree.
    if abs(gap - entry.response_days) <= 4 and response.rival is None:
        response.confidence = max(response.confidence, 0.92)


__all__ = ["Candidate", "Extraction", "extract"]
