"""Value parsers: the forms dates, amounts and phones take on real letters, and OCR slips."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from extractors.parse import find_dates, find_money, find_phones, find_years


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Notice date January 30, 2018", dt.date(2018, 1, 30)),
        ("Jan. 30, 2018", dt.date(2018, 1, 30)),
        ("Date: 03/15/2024", dt.date(2024, 3, 15)),
        ("by 4/29/2019", dt.date(2019, 4, 29)),
        ("2025-03-10", dt.date(2025, 3, 10)),
        ("1 March 2024", dt.date(2024, 3, 1)),
        ("SEPT 9, 2023", dt.date(2023, 9, 9)),
        ("Jan. 3O, 2Ol8", dt.date(2018, 1, 30)),  # OCR O/l inside a date
    ],
)
def test_dates(text: str, expected: dt.date) -> None:
    assert [s.value for s in find_dates(text)] == [expected]


@pytest.mark.parametrize(
    "text", ["(Rev. 7-2019)", "ZIP 45999-0149", "February 30, 2018", "13/01/2020"]
)
def test_not_dates(text: str) -> None:
    assert find_dates(text) == []


@pytest.mark.parametrize(
    ("text", "amount", "negative"),
    [
        ("Amount due: $1,075.21", "1075.21", False),
        ("S9,533.53", "9533.53", False),  # '$' read as 'S'
        ("$9,533", "9533", False),
        ("Payments and credits -3,328.00", "3328.00", True),
        ("($3,328.00)", "3328.00", True),
        ("Total 1,075.21", "1075.21", False),
        ("$ 16,519.00", "16519.00", False),
        ("Amount due immediately: $11, 031. 53.", "11031.53", False),  # OCR-split separators
        ("Amount due: $1,474, 14", "1474.14", False),
        ("$11,011. 89", "11011.89", False),
    ],
)
def test_money(text: str, amount: str, negative: bool) -> None:
    (span,) = find_money(text)
    assert span.value.amount == Decimal(amount)
    assert span.value.negative is negative


@pytest.mark.parametrize(
    "text", ["Tax year 2017", "ZIP 45999-0149", "SOLD 1,075", "Form 1040", "CP504"]
)
def test_not_money(text: str) -> None:
    assert find_money(text) == []


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("Phone 1-800-829-1040", "800-829-1040"),
        ("call (866) 883-2029", "866-883-2029"),
        ("1(800)279-0231", "800-279-0231"),
        ("800.829.0922 ext 123", "800-829-0922"),
        ("Call 1-8OO-829-1040", "800-829-1040"),
    ],
)
def test_phones(text: str, phone: str) -> None:
    assert [s.value for s in find_phones(text)] == [phone]


def test_phone_not_zip() -> None:
    assert find_phones("Holtsville, NY 11742-9019") == []


def test_years_skip_money_and_dates() -> None:
    assert [s.value for s in find_years("Tax year 2017 $2,017.00 12/31/2016")] == [2017]


def test_years_in_a_list() -> None:
    assert [s.value for s in find_years("Tax years 2014, 2015, 2016")] == [2014, 2015, 2016]


def test_month_one_letter_off_in_a_dates_shape() -> None:
    """OCR's 'Angust 1, 2016' and 'duly 24, 2018' are dates; 'Juny' (June or July?) is not."""
    assert [s.value for s in find_dates("Angust 1, 2016")] == [dt.date(2016, 8, 1)]
    assert [s.value for s in find_dates("duly 24, 2018")] == [dt.date(2018, 7, 24)]
    assert find_dates("Juny 3, 2020") == []
    assert find_dates("items 12, 2020") == []


def test_a_badly_misread_month_in_a_dates_shape() -> None:
    """A damaged scan's 'Sepienwver 24, 2019' and 'Crtouer 27, 2021' are the one month they
    come near; a word that two months fit about as well, or that starts unlike the month,
    stays a word."""
    assert [s.value for s in find_dates("Date: Sepienwver 24, 2019")] == [dt.date(2019, 9, 24)]
    assert [s.value for s in find_dates("Crtouer 27, 2021.")] == [dt.date(2021, 10, 27)]
    for text in ["Monday 24, 2019", "Amount 12, 2020", "until 15, 2021", "received 3, 2022"]:
        assert find_dates(text) == [], text


def test_a_space_ocr_put_inside_an_amounts_first_group_is_closed() -> None:
    """'$1 2,628.90' is $12,628.90 with a broken space, not $1 beside another number."""
    spans = find_money("AMOUNT DUE: $1 2,628.90 now, or $7.00 a day")
    assert [s.value.amount for s in spans] == [Decimal("12628.90"), Decimal("7.00")]
