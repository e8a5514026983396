"""No full SSN or EIN leaves the pipeline, whatever the letter prints."""

from __future__ import annotations

import json

from conftest import png_bytes
from fixtures.render import render_text_page
from ingest import read_letter
from ingest.privacy import mask_ids

LETTER = [
    "Department of the Treasury",
    "Internal Revenue Service",
    "Notice CP14",
    "Tax year 2017",
    "Notice date January 30, 2018",
    "Social security number 123-45-6789",
    "Employer ID number 12-3456789",
    "JOHN SMITH",
    "123 MAIN ST",
    "SPRINGFIELD, IL 62701",
    "Amount due: $1,075.21",
    "Write your social security number (123-45-6789), the tax year (2017), and the",
    "form number (1040) on your payment. Our file also shows 123456789.",
]


def test_full_numbers_never_in_the_record() -> None:
    record = read_letter(png_bytes(render_text_page(LETTER, dpi=300)))
    out = json.dumps(record.to_json_dict())
    for full in ("123-45-6789", "123456789", "12-3456789", "123 45 6789"):
        assert full not in out
    assert record.fields.taxpayer_id_last4.value == "6789"


def test_mask_keeps_last_four_and_length() -> None:
    text = "SSN 123-45-6789, EIN 12-3456789, ITIN 912345678, phone 800-829-1040"
    masked = mask_ids(text)
    assert masked == "SSN ***-**-6789, EIN **-***6789, ITIN *****5678, phone 800-829-1040"
    assert len(masked) == len(text)
