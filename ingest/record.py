"""The case record: schema 1 of the public contract in design.md.

Keys here are the contract: add freely, never rename without bumping SCHEMA_VERSION.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_serializer

SCHEMA_VERSION = "1"

T = TypeVar("T")


class FieldValue(BaseModel, Generic[T]):
    """One extracted field: the value, how sure we are, and where on the page it was read."""

    value: T | None = None
    confidence: float = 0.0
    page: int | None = None
    bbox: list[float] | None = None
    evidence: str | None = None


class AmountField(FieldValue[Decimal]):
    @field_serializer("value")
    def _two_places(self, v: Decimal | None) -> str | None:
        return None if v is None else f"{v.quantize(Decimal('0.01'))}"


class Fields(BaseModel):
    notice_code: FieldValue[str] = Field(default_factory=FieldValue[str])
    notice_date: FieldValue[dt.date] = Field(default_factory=FieldValue[dt.date])
    tax_years: FieldValue[list[int]] = Field(default_factory=FieldValue[list[int]])
    amount_due: AmountField = Field(default_factory=AmountField)
    response_date: FieldValue[dt.date] = Field(default_factory=FieldValue[dt.date])
    taxpayer_id_last4: FieldValue[str] = Field(default_factory=FieldValue[str])
    taxpayer_name: FieldValue[str] = Field(default_factory=FieldValue[str])
    tax_form: FieldValue[str] = Field(default_factory=FieldValue[str])
    irs_phone: FieldValue[str] = Field(default_factory=FieldValue[str])


FIELD_NAMES: tuple[str, ...] = tuple(Fields.model_fields)
# The fields a letter is acted on by: a low-confidence or wrong one must send it to review.
CORE_FIELDS = ("notice_code", "notice_date", "tax_years", "amount_due", "response_date")


class Source(BaseModel):
    path: str | None = None
    sha256: str
    media_type: str | None = None
    pages: int = 0
    page_range: list[int] | None = None  # this letter's first and last page in the file
    text_source: Literal["text", "ocr", "mixed"] | None = None
    letters_in_file: int = 1  # more than 1: the file was a stack, cut into letters


class Notice(BaseModel):
    code: str | None = None
    title: str | None = None
    stage: str | None = None
    known: bool = False
    audience: str | None = None


class ScamSignal(BaseModel):
    code: str
    message: str
    evidence: str | None = None
    weight: float


class Scam(BaseModel):
    verdict: Literal["genuine", "suspicious", "scam"] = "genuine"
    score: float = 0.0
    signals: list[ScamSignal] = Field(default_factory=list)


class TimelineStep(BaseModel):
    date: dt.date | None = None
    action: str
    kind: Literal["deadline", "right", "expected", "option"]
    basis: str
    days_left: int | None = None  # counted from --today; negative when past
    urgency: Literal["overdue", "due_within_7_days", "upcoming"] | None = None


class Review(BaseModel):
    needed: bool = False
    reasons: list[str] = Field(default_factory=list)


class ErrorInfo(BaseModel):
    code: str
    message: str
    page: int | None = None


class CaseRecord(BaseModel):
    model_config = ConfigDict(ser_json_timedelta="iso8601")

    schema_version: Literal["1"] = SCHEMA_VERSION
    id: str
    source: Source
    status: Literal["ok", "partial", "failed"] = "ok"
    fields: Fields = Field(default_factory=Fields)
    notice: Notice = Field(default_factory=Notice)
    scam: Scam = Field(default_factory=Scam)
    timeline: list[TimelineStep] = Field(default_factory=list)
    review: Review = Field(default_factory=Review)
    errors: list[ErrorInfo] = Field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def json_schema() -> dict[str, Any]:
    return CaseRecord.model_json_schema()
