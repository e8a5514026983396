"""Real scam mailers (phone photos and scans in ../shared/realdocs) through the whole pipeline.

They are unlicensed: read in place from ../shared, never copied into the repository.
"""

from __future__ import annotations

from functools import cache

import pytest

from conftest import SHARED, shared_dir
from ingest import CaseRecord, read_letter

IMAGES = sorted(
    p.name for p in (SHARED / "realdocs").glob("*") if p.suffix.lower() in (".jpg", ".png")
) or ["(absent)"]


@cache
def _read(name: str) -> CaseRecord:
    """Each photo is read once per test run (a phone photo costs seconds of OCR)."""
    return read_letter(shared_dir("realdocs") / name)


@pytest.mark.parametrize("name", IMAGES)
def test_real_scam_mailer_is_flagged(name: str) -> None:
    record = _read(name)
    assert record.status == "ok"
    assert record.scam.verdict in ("scam", "suspicious"), record.scam
    assert record.review.needed
    codes = {s.code for s in record.scam.signals}
    assert "fake_agency" in codes or "threat_warrant" in codes


@pytest.mark.parametrize("who", ["bon-secours", "church", "rvk-inc"])
def test_lien_mailer_phone_is_read(who: str) -> None:
    """The number the mailer says to call (sources.md: 866-883-2029 on all three)."""
    record = _read(f"scamletter_lien_ny_{who}_letter.jpg")
    assert record.fields.irs_phone.value == "866-883-2029"
    assert record.scam.verdict == "scam"
