"""`irs-ingest eval`: the scoring is right, and the command runs on the committed samples."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from click.testing import CliRunner

from conftest import SAMPLES
from ingest.cli import main
from ingest.evaluate import compare, score
from ingest.record import AmountField, CaseRecord, FieldValue, Scam, Source


def _record(code: str | None, amount: str | None, verdict: str = "genuine") -> CaseRecord:
    r = CaseRecord(id="x", source=Source(sha256="x"))
    r.fields.notice_code = FieldValue[str](value=code, confidence=0.95)
    r.fields.amount_due = AmountField(value=Decimal(amount) if amount else None, confidence=0.5)
    r.fields.notice_date = FieldValue[dt.date](value=dt.date(2024, 1, 2), confidence=0.95)
    r.scam = Scam(verdict=verdict)  # type: ignore[arg-type]
    return r


def _label(code: str | None, amount: str | None, scam: bool = False) -> dict[str, object]:
    return {
        "file": "letters/x.pdf",
        "is_scam": scam,
        "degradation": "clean",
        "family": "classic",
        "format": "png",
        "fields": {
            "notice_code": code,
            "amount_due": amount,
            "notice_date": "2024-01-02",
            "tax_years": [],
        },
    }


def test_compare_normalises_only_trivia() -> None:
    result = compare(_label("Letter 1058", "1075.2"), _record("LETTER 1058", "1075.20"))
    assert result["notice_code"][0] and result["amount_due"][0] and result["notice_date"][0]
    assert result["tax_years"][0]  # [] and null both mean "none"
    wrong = compare(_label("CP14", None), _record("CP14", "5.00"))
    assert not wrong["amount_due"][0]  # a value where the letter asks for none is a miss


def test_score_counts_fields_scams_and_confidence() -> None:
    rows = [
        (_label("CP14", "10.00"), _record("CP14", "10.00")),
        (_label("CP504", "20.00"), _record("CP501", "20.00")),
        (_label(None, "30.00", scam=True), _record(None, "30.00", "scam")),
        (_label(None, None, scam=True), _record(None, None, "genuine")),
    ]
    report = score(rows)
    assert report["fields"]["notice_code"] == {"right": 3, "total": 4, "accuracy": 0.75}
    assert report["scam"]["recall"] == 0.5
    assert report["scam"]["confusion"]["scam"] == {"scam": 1, "genuine": 1}
    assert report["high_confidence"]["total"] == 6  # codes and dates read at 0.95
    assert report["worst_misses"][0]["field"] == "notice_code"
    # Only the CP504 read as CP501 has a wrong core field, and nothing here asked for review.
    assert report["review"]["wrong_core_routed"] == {"right": 0, "total": 1, "accuracy": 0.0}
    assert report["review"]["sent_to_review"]["right"] == 0


def test_eval_command_on_samples() -> None:
    result = CliRunner().invoke(main, ["eval", str(SAMPLES), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert report["letters"] == 12 and report["failed"] == 0
    assert set(report["by"]) == {"degradation", "family", "format"}
    assert report["fields"]["notice_code"]["total"] == 12
    assert report["scam"]["confusion"]["scam"]  # the samples hold scams, and they are counted


def test_the_report_says_whether_the_accuracy_bar_is_met() -> None:
    """Clean and lightly degraded letters count toward 99%, faxes and heavy scans toward 95%:
    one wrong code in 50 faxes meets the bar, one in 50 clean letters does not."""

    def fax(row: tuple[dict[str, object], CaseRecord]) -> tuple[dict[str, object], CaseRecord]:
        return {**row[0], "degradation": "fax"}, row[1]

    right = [(_label("CP14", "10.00"), _record("CP14", "10.00")) for _ in range(50)]
    wrong = (_label("CP14", "10.00"), _record("CP501", "10.00"))
    wrong[1].review.needed = True
    report = score(right + [fax(r) for r in right[1:]] + [fax(wrong)])
    assert report["bar"]["heavily"]["notice_code"]["accuracy"] == 0.98
    assert report["bar"]["lightly"]["notice_code"]["accuracy"] == 1.0
    assert report["bar"]["met"] is True
    report = score(right[1:] + [wrong] + [fax(r) for r in right])
    assert report["bar"]["lightly"]["notice_code"]["accuracy"] == 0.98
    assert report["bar"]["met"] is False
