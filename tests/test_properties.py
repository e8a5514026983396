"""Property and fuzz tests (hypothesis): the value parsers, notice codes, ID masking and the
record's JSON round trip hold for every input of a shape, not just the examples in test_parse.

Kept fast: modest example counts, no deadline (the machine is shared).
"""

from __future__ import annotations

import datetime as dt
import re
import string
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from extractors.codes import _readings
from extractors.parse import find_dates, find_money, find_phones, find_years
from ingest.catalog import code_key, load_catalog
from ingest.privacy import mask_ids
from ingest.record import (
    AmountField,
    CaseRecord,
    ErrorInfo,
    Fields,
    FieldValue,
    Notice,
    Review,
    Scam,
    ScamSignal,
    Source,
    TimelineStep,
)

# Nothing written into the repository: no example database, and hypothesis's own cache
# (.hypothesis/, not ignored by git here) goes to the temporary folder instead.
set_hypothesis_home_dir(str(Path(tempfile.gettempdir()) / "hypothesis-irs-ingest"))
FAST = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
FUZZ = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# Text as OCR hands it over: letters, digits, the punctuation of amounts and dates, odd unicode.
ocr_text = st.text(
    alphabet=st.one_of(
        st.sampled_from("0123456789OoIlSB$§,.'-/() :;%\n\t"),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=80,
)
separators = st.sampled_from([" ", ": ", " (", ", ", "\n", "\t"])


# --- money ----------------------------------------------------------------------------------

amounts = st.decimals(
    min_value=Decimal("0.00"), max_value=Decimal("99999999.99"), places=2, allow_nan=False
)


@FAST
@given(amounts, st.sampled_from(["Amount due: ", "Total ", "You owe ", "Pay "]), separators)
def test_money_reads_every_printed_amount(amount: Decimal, label: str, after: str) -> None:
    text = f"{label}${amount:,.2f}{after}now"
    (span,) = find_money(text)
    assert span.value.amount == amount
    assert span.value.has_symbol and span.value.has_cents and not span.value.negative
    assert text[span.start : span.end].lstrip("$") == f"{amount:,.2f}"


@FAST
@given(amounts, st.sampled_from(["-${}", "(${})", "- ${}"]))
def test_money_negative_forms(amount: Decimal, form: str) -> None:
    (span,) = find_money("Payments " + form.format(f"{amount:,.2f}"))
    assert span.value.amount == amount and span.value.negative


@FAST
@given(amounts)
def test_money_without_grouping_and_with_ocr_s_for_dollar(amount: Decimal) -> None:
    (plain,) = find_money(f"Amount due ${amount:.2f}")
    assert plain.value.amount == amount
    if amount >= 1000:  # 'S' stands for '$' only before a grouped amount
        (ocr,) = find_money(f"Amount due S{amount:,.2f}")
        assert ocr.value.amount == amount


@FUZZ
@given(ocr_text, st.booleans())
def test_money_never_fails_on_any_text(text: str, bare: bool) -> None:
    spans = find_money(text, bare=bare)
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
        assert span.value.amount >= 0
        assert any(c.isdigit() for c in text[span.start : span.end])


# --- dates and years ---------------------------------------------------------------------------

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31))
MONTH = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def printed(day: dt.date, style: str) -> str:
    month = MONTH[day.month - 1]
    return {
        "spelled": f"{month} {day.day}, {day.year}",
        "SPELLED": f"{month.upper()} {day.day}, {day.year}",
        "abbreviated": f"{month[:3]}. {day.day}, {day.year}",
        "day-first": f"{day.day} {month} {day.year}",
        "us": f"{day.month:02d}/{day.day:02d}/{day.year}",
        "us-short": f"{day.month}/{day.day}/{day.year}",
        "iso": day.isoformat(),
    }[style]


STYLES = ["spelled", "SPELLED", "abbreviated", "day-first", "us", "us-short", "iso"]


@FAST
@given(dates, st.sampled_from(STYLES), st.sampled_from(["Notice date ", "Pay by ", "on "]))
def test_dates_read_every_printed_form(day: dt.date, style: str, label: str) -> None:
    text = f"{label}{printed(day, style)}."
    assert [s.value for s in find_dates(text)] == [day]


@FAST
@given(st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2069, 12, 31)))
def test_two_digit_years_land_in_1970_to_2069(day: dt.date) -> None:
    text = f"Date: {day.month:02d}/{day.day:02d}/{day.year % 100:02d}"
    assert [s.value for s in find_dates(text)] == [day]


@FUZZ
@given(ocr_text)
def test_dates_never_fail_and_never_overlap(text: str) -> None:
    spans = find_dates(text)
    for a, b in zip(spans, spans[1:], strict=False):
        assert a.end <= b.start
    for span in spans:
        assert isinstance(span.value, dt.date) and 0 <= span.start < span.end <= len(text)


@FAST
@given(st.lists(st.integers(1900, 2099), min_size=1, max_size=5, unique=True))
def test_years_in_any_list(years: list[int]) -> None:
    text = "Tax years " + ", ".join(map(str, years)) + " are shown."
    assert [s.value for s in find_years(text)] == years


@FUZZ
@given(ocr_text)
def test_years_never_fail(text: str) -> None:
    for span in find_years(text):
        assert 1900 <= span.value <= 2099 and text[span.start : span.end] == str(span.value)


# --- phones -----------------------------------------------------------------------------------

phones = st.tuples(st.integers(200, 999), st.integers(0, 999), st.integers(0, 9999)).map(
    lambda t: (f"{t[0]:03d}", f"{t[1]:03d}", f"{t[2]:04d}")
)
PHONE_FORMS = ["{}-{}-{}", "({}) {}-{}", "1-{}-{}-{}", "{}.{}.{}", "1 ({}) {}-{}"]


@FAST
@given(phones, st.sampled_from(PHONE_FORMS))
def test_phones_in_every_print_format(phone: tuple[str, str, str], form: str) -> None:
    text = f"Call us at {form.format(*phone)} today."
    assert [s.value for s in find_phones(text)] == ["-".join(phone)]


@FUZZ
@given(ocr_text)
def test_phones_never_fail(text: str) -> None:
    for span in find_phones(text):
        assert re.fullmatch(r"[2-9]\d{2}-\d{3}-\d{4}", span.value)


# --- notice codes -----------------------------------------------------------------------------

CATALOG = load_catalog()
CODES = sorted(e.code for e in CATALOG.notices)
SHORT = [c for c in CODES if re.fullmatch(r"(CP|LT)\d+[A-Z]*", c)]
LETTERS = [c for c in CODES if c.startswith("Letter ")]
LOOKALIKE = {"0": "O", "1": "Il", "5": "S", "8": "B"}


@FAST
@given(st.sampled_from(CODES))
def test_every_catalog_code_is_its_own_canonical_form(code: str) -> None:
    assert CATALOG.canonical(code) == code
    assert CATALOG.canonical(code.lower()) == code
    assert code_key(code_key(code)) == code_key(code)


@FAST
@given(st.sampled_from(SHORT), st.sampled_from(["{p} {n}", "{p}-{n}", "Notice {p}{n}", "{p}{n}"]))
def test_short_codes_however_printed(code: str, form: str) -> None:
    prefix, number = code[:2], code[2:]
    assert CATALOG.canonical(form.format(p=prefix, n=number)) == code


@FAST
@given(st.sampled_from(LETTERS), st.sampled_from(["Letter {}", "LTR {}", "Ltr. {}", "L{}", "{}"]))
def test_letter_numbers_however_printed(code: str, form: str) -> None:
    assert CATALOG.canonical(form.format(code.removeprefix("Letter "))) == code


@FAST
@given(st.sampled_from(SHORT), st.data())
def test_ocr_slips_in_a_code_are_repaired(code: str, data: st.DataObject) -> None:
    """Any digit of a CP/LT code read as its look-alike letter: one of the readings is the
    code, and the catalog's closed list takes no reading for another code before it."""
    prefix, body = code[:2], code[2:]
    digits = re.match(r"\d+", body)
    assert digits
    mangled = "".join(
        data.draw(st.sampled_from([ch, *LOOKALIKE.get(ch, "")])) if i < digits.end() else ch
        for i, ch in enumerate(body)
    )
    readings = _readings(prefix + mangled)
    found = [c for c in map(CATALOG.canonical, readings) if c]
    assert found and found[0] == code, (prefix + mangled, readings, found)


@FUZZ
@given(ocr_text)
def test_code_readings_never_fail(text: str) -> None:
    readings = _readings(text)
    assert readings and all(isinstance(r, str) for r in readings)
    for reading in readings:
        CATALOG.canonical(reading)  # any string: a code or None, never an error


# --- masking full SSN / EIN / ITIN -------------------------------------------------------------

nine = st.integers(0, 999_999_999).map(lambda n: f"{n:09d}")
ID_FORMS = [
    lambda d: f"{d[:3]}-{d[3:5]}-{d[5:]}",
    lambda d: f"{d[:3]} {d[3:5]} {d[5:]}",
    lambda d: d,
    lambda d: f"{d[:2]}-{d[2:]}",
]
words = st.text(alphabet=string.ascii_letters + " .,:;()\n", max_size=30)
left_of = st.sampled_from([" ", ": ", " (", "\n", "#", "SSN ", "EIN:"])
right_of = st.sampled_from([" ", ".", ",", ")", "\n", " and", ";"])


@FAST
@given(nine, st.sampled_from(range(len(ID_FORMS))), words, words, left_of, right_of)
def test_no_full_id_survives_masking(
    digits: str, form: int, before: str, after: str, left: str, right: str
) -> None:
    printed_id = ID_FORMS[form](digits)
    text = f"{before}{left}{printed_id}{right}{after}"
    masked = mask_ids(text)
    assert printed_id not in masked
    assert digits[-4:] in masked and len(masked) == len(text)
    assert masked.count("*") == 5 and mask_ids(masked) == masked


@FUZZ
@given(ocr_text)
def test_masking_never_fails_keeps_length_and_is_idempotent(text: str) -> None:
    masked = mask_ids(text)
    assert len(masked) == len(text) and mask_ids(masked) == masked
    for a, b in zip(text, masked, strict=True):
        assert a == b or (a.isdigit() and b == "*")


# --- the record round trip ---------------------------------------------------------------------

finite = st.floats(min_value=0, max_value=1, allow_nan=False)
any_text = st.text(max_size=40)  # any unicode but lone surrogates, which JSON cannot carry
bbox = st.none() | st.lists(
    st.floats(0, 5000, allow_nan=False, allow_infinity=False), min_size=4, max_size=4
)


def field(values: st.SearchStrategy, kind: type = FieldValue) -> st.SearchStrategy:
    return st.builds(
        kind,
        value=st.none() | values,
        confidence=finite,
        page=st.none() | st.integers(1, 50),
        bbox=bbox,
        evidence=st.none() | any_text,
    )


records = st.builds(
    CaseRecord,
    id=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    source=st.builds(
        Source,
        path=st.none() | any_text,
        sha256=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
        media_type=st.none() | st.sampled_from(["application/pdf", "image/png", "image/tiff"]),
        pages=st.integers(0, 50),
        text_source=st.none() | st.sampled_from(["text", "ocr", "mixed"]),
    ),
    status=st.sampled_from(["ok", "partial", "failed"]),
    fields=st.builds(
        Fields,
        notice_code=field(st.sampled_from(CODES), FieldValue[str]),
        notice_date=field(dates, FieldValue[dt.date]),
        tax_years=field(st.lists(st.integers(1900, 2099), max_size=4), FieldValue[list[int]]),
        amount_due=field(amounts, AmountField),
        response_date=field(dates, FieldValue[dt.date]),
        taxpayer_id_last4=field(
            st.text(alphabet="0123456789", min_size=4, max_size=4), FieldValue[str]
        ),  # fmt: skip
        taxpayer_name=field(any_text, FieldValue[str]),
        tax_form=field(any_text, FieldValue[str]),
        irs_phone=field(any_text, FieldValue[str]),
    ),
    notice=st.builds(Notice, code=st.none() | any_text, title=st.none() | any_text),
    scam=st.builds(
        Scam,
        verdict=st.sampled_from(["genuine", "suspicious", "scam"]),
        score=finite,
        signals=st.lists(
            st.builds(ScamSignal, code=any_text, message=any_text, weight=finite), max_size=3
        ),
    ),
    timeline=st.lists(
        st.builds(
            TimelineStep,
            date=st.none() | dates,
            action=any_text,
            kind=st.sampled_from(["deadline", "right", "expected", "option"]),
            basis=any_text,
            days_left=st.none() | st.integers(-5000, 5000),
        ),
        max_size=3,
    ),
    review=st.builds(Review, needed=st.booleans(), reasons=st.lists(any_text, max_size=3)),
    errors=st.lists(
        st.builds(ErrorInfo, code=any_text, message=any_text, page=st.none() | st.integers(1, 50)),
        max_size=3,
    ),
)


@FAST
@given(records)
def test_record_json_round_trip(record: CaseRecord) -> None:
    again = CaseRecord.model_validate_json(record.model_dump_json())
    assert again == record
    assert CaseRecord.model_validate(record.to_json_dict()) == record
    amount = record.fields.amount_due.value
    if amount is not None:  # always two places in JSON, whatever the Decimal held
        assert record.to_json_dict()["fields"]["amount_due"]["value"] == f"{amount:.2f}"
