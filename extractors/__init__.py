"""Field extraction: one extractor per field family, each giving value, confidence, evidence."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.document import Document
from ingest.record import AmountField, Fields, FieldValue

from .base import Candidate, Context, field_from


@dataclass(slots=True)
class Extraction:
    fields: Fields
    code_known: bool


def extract(doc: Document) -> Extraction:
    from . import amounts, codes, dates, forms, identity, phones, years

    ctx = Context(doc)
    code, known = codes.notice_code(ctx)
    notice = dates.notice_date(ctx)
    notice_value = notice.value if notice else None
    response = dates.response_date(ctx, notice_value)
    latest = notice_value.year if notice_value else None
    fields = Fields(
        notice_code=FieldValue[str](**field_from(code)),
        notice_date=FieldValue(**field_from(notice)),
        tax_years=FieldValue[list[int]](**field_from(years.tax_years(ctx, latest))),
        amount_due=AmountField(**field_from(amounts.amount_due(ctx))),
        response_date=FieldValue(**field_from(response)),
        taxpayer_id_last4=FieldValue[str](**field_from(identity.taxpayer_id_last4(ctx))),
        taxpayer_name=FieldValue[str](**field_from(identity.taxpayer_name(ctx))),
        tax_form=FieldValue[str](**field_from(forms.tax_form(ctx))),
        irs_phone=FieldValue[str](**field_from(phones.irs_phone(ctx))),
    )
    return Extraction(fields, known)


__all__ = ["Candidate", "Extraction", "extract"]
