"""From a Document to a CaseRecord: fields, notice and stage, scam verdict, timeline, review."""

from __future__ import annotations

from datetime import date

from classifiers import notice as notice_classifier
from classifiers import review, scam
from extractors import extract

from .document import Document
from .record import CaseRecord, Source
from .timeline import build_timeline


def assemble(doc: Document, today: date | None = None) -> CaseRecord:
    extraction = extract(doc)
    fields = extraction.fields
    text = doc.text
    notice, entry = notice_classifier.classify(text, fields)
    assessment = scam.assess(
        text,
        notice_code=notice.code,
        notice_known=notice.known,
        amount_due=fields.amount_due.value,
    )
    is_letter = scam.looks_like_irs_letter(text)
    record = CaseRecord(id="", source=Source(sha256=""), fields=fields, notice=notice)
    record.scam = assessment
    record.timeline = build_timeline(fields, entry, assessment.verdict, today=today)
    record.review = review.route(
        fields,
        entry,
        assessment,
        is_irs_letter=is_letter,
        conflicts=extraction.conflicts,
        today=today,
    )
    return record
