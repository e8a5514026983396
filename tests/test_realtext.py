"""Real IRS sample notices, rendered as 300-DPI scans and read end to end with real tesseract.

The expected values come from the files' headers (notice date, printed deadline) and from the
verbatim text itself (the notice code in the file name, the headline amount), never from us.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import SHARED, png_bytes, realtext
from fixtures.render import render_text_page
from ingest import read_letter

SAMPLES = sorted(p.name for p in (SHARED / "realtext").glob("irs_*_sample.txt")) or ["(absent)"]
_HEADLINE = re.compile(r"^Amount due(?: immediately)?: \$([\d,]+\.\d{2})$", re.MULTILINE)
# The header box's period ("Tax year" / "2017", or "December 31, 2017") and number to call
# (not the samples' "1-800-xxx-xxxx" placeholders): fields the text states, read from it.
_TAX_YEAR = re.compile(r"^Tax (?:year|period)\n(?:[A-Z][a-z]+ \d{1,2}, )?(\d{4})$", re.M)
_PHONE = re.compile(r"^(?:Phone )?(?:1-)?(8\d\d-\d{3}-\d{4})$", re.MULTILINE)


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_notice_scan(name: str) -> None:
    header, lines = realtext(name)
    code = Path(name).stem.split("_")[1].upper()
    image = render_text_page(lines, dpi=300)
    record = read_letter(png_bytes(image))
    f = record.fields
    assert record.status == "ok"
    assert f.notice_code.value == code
    assert record.notice.known
    if "notice_date" in header:
        assert f.notice_date.value == dt.date.fromisoformat(header["notice_date"])
    if "expected_deadline" in header:
        assert f.response_date.value == dt.date.fromisoformat(header["expected_deadline"])
    page1 = "\n".join(lines)
    headline = _HEADLINE.search(page1)
    if headline:
        assert f.amount_due.value == Decimal(headline[1].replace(",", ""))
    year = _TAX_YEAR.search(page1)
    if year:
        assert int(year[1]) in f.tax_years.value
    phone = _PHONE.search(page1)
    if phone:
        assert f.irs_phone.value == phone[1]
    assert record.scam.verdict == "genuine", record.scam.signals


def test_cp90_identity_and_phone_fields() -> None:
    """The CP90 sample prints a (placeholder) SSN, the addressee and the number to call."""
    _, lines = realtext("irs_cp90_sample.txt")
    record = read_letter(png_bytes(render_text_page(lines, dpi=300, degrade="light", seed=5)))
    f = record.fields
    assert f.taxpayer_id_last4.value == "9999"
    assert "999-99" not in (f.taxpayer_id_last4.evidence or "")  # never the full number
    assert f.taxpayer_name.value == "JAMES & KAREN Q. SPARROW"
    assert f.irs_phone.value == "800-829-1040"
    assert f.amount_due.value == Decimal("5947.81")
    assert record.notice.stage == "final_notice_intent_to_levy"


def test_a_court_summons_scam_states_its_issue_and_hearing_dates() -> None:
    """The FTC's fake Maryland court notice: "Issued: April 5, 2026" is the letter's date and
    the hearing (appear, or pay before it) its deadline; a clinic needs both, scam or not."""
    _, lines = realtext("scam_fake_maryland_court_hearing_notice_FTC-2026-04.txt")
    record = read_letter(png_bytes(render_text_page(lines, dpi=300)))
    assert record.scam.verdict == "scam"
    assert record.fields.notice_date.value == dt.date(2026, 4, 5)
    assert record.fields.response_date.value == dt.date(2026, 4, 20)
