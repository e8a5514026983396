"""Field extraction and review routing on small hand-laid pages (words with boxes, no OCR).

Each page is a list of printed rows; a row is a list of (x, text) cells, so a label and the
value beside it share a row as they would on a scan.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from classifiers.review import route
from extractors import extract
from extractors.codes import _slot_code
from ingest.catalog import load_catalog
from ingest.document import Document, Line, Page, Word, build_lines
from ingest.record import Fields, FieldValue, Scam

Row = list[tuple[float, str]]


def page(rows: list[Row], number: int = 1) -> Page:
    lines: list[Line] = []
    for r, cells in enumerate(rows):
        y = 40.0 + 12.0 * r
        for x, text in cells:
            words: list[Word] = []
            for token in text.split():
                w = 5.0 * len(token)
                words.append(Word(token, (x, y, x + w, y + 9.0), 1.0, "text"))
                x += w + 3.0
            if words:
                lines.append(Line(words, row=r))
    return Page(number, 612.0, 792.0, lines, "text")


def doc(*pages: list[Row]) -> Document:
    return Document([page(rows, i) for i, rows in enumerate(pages, start=1)])


def test_prose_period_does_not_read_on_into_a_deadline() -> None:
    """'for the tax period(s)' / 'ended December 31, 2022.' is prose, not a table header: the
    deadline in the next sentence is not another tax period."""
    d = doc(
        [
            [(380, "Notice"), (470, "CP504")],
            [(380, "Tax period"), (470, "December 31, 2022")],
            [(380, "Notice date"), (470, "November 6, 2023")],
            [(40, "Amount due immediately: $35,954.73")],
            [(40, "our records show unpaid taxes on your Form 941 for the tax period(s)")],
            [(40, "")],
            [(40, "ended December 31, 2022.")],
            [(40, "If we don't receive the amount due by December 6, 2023, we")],
        ]
    )
    assert extract(d).fields.tax_years.value == [2022]


def test_a_year_that_ends_a_date_broken_across_lines_is_not_a_tax_year() -> None:
    """'... unpaid taxes for the tax year' / 'ended December 31, 2013 ... by August 30,' /
    '2016, the amount ...': the sentence runs on into 2013's line; 2016 finishes a deadline."""
    d = doc(
        [
            [(380, "Notice date"), (470, "August 9, 2016")],
            [(40, "As we notified you, our records show you have unpaid taxes for the tax year")],
            [(40, "ended December 31, 2013 (Form 1040). If you don't pay $197.79 by August 30,")],
            [(40, "2016, the amount of interest will increase and more penalties may apply.")],
        ]
    )
    assert extract(d).fields.tax_years.value == [2013]
    listed = doc([[(40, "We changed your return for the tax years")], [(40, "2013 and 2014.")]])
    assert extract(listed).fields.tax_years.value == [2013, 2014]


def test_a_deadline_under_a_period_column_is_not_a_period() -> None:
    """The column of a "Tax period ending" header runs down its cells, not into the sentence
    under the table that happens to start in the same place ("Amount due by ...")."""
    rows: list[Row] = [
        [(380, "Notice date"), (470, "August 4, 2017")],
        [(150, "Tax period ending"), (300, "Assessed balance")],
        [(150, "December 31, 2014"), (300, "4,473.98")],
        [(150, "Amount due by August 25, 2017")],
    ]
    assert extract(doc(rows)).fields.tax_years.value == [2014]


def test_an_income_tax_year_read_as_the_notice_year_is_a_misread() -> None:
    """A Form 1040 year is written about after it ends: "2015" read "2018" on a fax dated 2018
    loses to the stub's 2015, and the years are no longer trusted outright. A quarter of the
    notice's own year stays on an employment tax letter (Form 941)."""
    fax = [
        [(380, "Tax year")],
        [(380, "2018")],
        [(380, "Notice date")],
        [(380, "September 18, 2018")],
        [(40, "Write your SSN, the tax year (2015), and the form number (1040) on your payment.")],
    ]
    years = extract(doc(fax)).fields.tax_years
    assert years.value == [2015] and years.confidence < 0.9
    quarter = [
        [(380, "Notice date"), (470, "May 20, 2024")],
        [(380, "Tax period"), (470, "March 31, 2024")],
        [(380, "Tax form"), (470, "941")],
        [(40, "Our records show you owe tax for the quarter ending March 31, 2023 too.")],
    ]
    assert extract(doc(quarter)).fields.tax_years.value == [2023, 2024]


def test_a_stamp_read_into_a_line_does_not_merge_the_table_rows_beside_it() -> None:
    """A rubber stamp over a table swells the line tesseract reads it into to three rows high;
    the header beside it and the first row under the header stay rows of their own."""

    def word(text: str, x: float, top: float, bottom: float) -> Word:
        return Word(text, (x, top, x + 8 * len(text), bottom), 0.9, "ocr")

    stamped = [word("On", 300, 285, 300), word("RECEIVED", 330, 300, 360)]
    header = [word("Tax", 190, 330, 338), word("Period", 220, 330, 338)]
    first = [word("12/31/2018", 190, 347, 356)]
    second = [word("12/31/2019", 190, 360, 368)]
    lines = build_lines([stamped, header, first, second])
    row = {ln.text: ln.row for ln in lines}
    assert row["Tax Period"] < row["12/31/2018"] < row["12/31/2019"]
    years = extract(Document([Page(1, 612, 792, lines, "ocr")])).fields.tax_years.value
    assert years == [2018, 2019]


def test_a_speck_row_inside_a_column_of_amounts_does_not_make_a_line_item_the_total() -> None:
    """'Amount Owed' heads a column of line items; a stamp's garbage read as a row between two
    of them does not make the first item the amount owned by the header."""
    table: list[Row] = [
        [(150, "Tax Period"), (450, "Amount Owed")],
        [(150, "12/31/2018"), (450, "5,093.48")],
        [(300, "5570020,")],
        [(150, "12/31/2019"), (450, "22,495.16")],
    ]
    assert extract(doc(table)).fields.amount_due.value is None
    stated = [[(40, "The amount of the unpaid balance is $27,588.64")], *table]
    assert str(extract(doc(stated)).fields.amount_due.value) == "27588.64"


def test_an_amount_after_a_label_the_line_end_cut_in_two_is_read() -> None:
    """'... The balance' / 'of 19,515 must be settled by March 14, 2023.': labels are matched a
    line at a time, but this one runs on; a count or a sentence that runs on is not an amount."""

    def amount(first: str, second: str) -> object:
        return extract(doc([[(40, first)], [(40, second)]])).fields.amount_due.value

    opening = "The IRS has assigned your overdue account to our agency. The balance"
    assert amount(opening, "of 19,515 must be settled by March 14, 2023.") == Decimal("19515")
    assert amount("Pay the total", "amount due of $1,050.00 by May 27.") == Decimal("1050.00")
    assert amount(opening, "of 2 accounts must be settled by March 14, 2023.") is None
    assert amount(opening, "of your account is shown on page 2, $1,050.00.") is None


def test_tax_period_table_keeps_every_row() -> None:
    d = doc(
        [
            [(380, "Notice"), (470, "CP504")],
            [(380, "Notice date"), (470, "November 6, 2023")],
            [(40, "Amount due immediately: $5,954.73")],
            [(40, "Tax periods"), (200, "Amount you owed")],
            [(40, "December 31, 2019"), (200, "$1,000.00")],
            [(40, "December 31, 2020"), (200, "$2,000.00")],
            [(40, "December 31, 2021"), (200, "$2,954.73")],
            [(40, "If you don't pay, we may levy your property.")],
        ]
    )
    assert extract(d).fields.tax_years.value == [2019, 2020, 2021]


def test_overpayment_applied_to_another_year_names_both_years() -> None:
    """A CP49 prints its own tax year in the header and the year the refund paid in the body."""
    d = doc(
        [
            [(380, "Notice"), (470, "CP49")],
            [(380, "Tax year"), (470, "2018")],
            [(380, "Notice date"), (470, "June 24, 2019")],
            [(40, "We applied your 2018 Form 1040 overpayment to an unpaid balance")],
            [(40, "We applied $5,414.52 of your 2018 Form 1040")],
            [(40, "overpayment to an amount owed for 2016.")],
        ]
    )
    assert extract(d).fields.tax_years.value == [2016, 2018]


def test_code_in_its_label_slot_is_repaired_against_the_catalog() -> None:
    """OCR's '\\T11', 'CPO05', 'cPr49' and 'CPi4' beside a Notice label read as the catalog's
    codes; a reading the catalog does not know is never invented."""
    for printed, code in [("\\T11", "LT11"), ("CPO05", "CP05"), ("cPr49", "CP49")]:
        d = doc([[(380, "Notice"), (470, printed)], [(380, "Notice date"), (470, "May 6, 2024")]])
        assert extract(d).fields.notice_code.value == code
    assert _slot_code("CPi4") == ("CP14", 1)
    assert _slot_code("CP71¢") == ("CP71C", 1)
    assert _slot_code("CPSO") is None  # CP50? CP5? CP59? no reading is certain
    assert _slot_code("Notice") is None


def test_a_code_read_all_in_letters_or_without_its_c_is_repaired_in_its_slot() -> None:
    """A damaged scan's CP11 read 'CPiL' on one page and 'CPit' on the next, its CP2000 read
    'P2000': beside the Notice label the catalog's closed list makes the reading certain. A
    single letter ('CPi') or a word ('CPU') is never taken for a code."""
    d = doc(
        [
            [(380, "Notice"), (470, "CPiL")],
            [(380, "Notice date"), (470, "April 19, 2024")],
            [(40, "Amount due: $940.27")],
        ],
        [[(380, "Notice"), (470, "CPit")], [(380, "Notice date"), (470, "April 19, 2024")]],
    )
    assert extract(d).fields.notice_code.value == "CP11"
    d = doc([[(380, "Notice number"), (470, "P2000")], [(380, "Notice date"), (470, "May 6")]])
    assert extract(d).fields.notice_code.value == "CP2000"
    for word in ["CPi", "CPU", "Pi", "Please"]:
        assert _slot_code(word) is None


def _amount(rows: list[Row]) -> object:
    return extract(doc(rows)).fields.amount_due.value


def test_amount_sentence_after_the_amount_does_not_make_it_a_line_item() -> None:
    """'... $16,889.46 by November 3, 2025, to avoid penalty and interest': the penalty and
    interest come after the amount, so the label still owns it; the deadline's day is no money."""
    rows: list[Row] = [
        [(40, "Amount due by November 3, 2025"), (300, "$16,889.46")],
        [(40, "Pay the amount due of $16,889.46 by November 3, 2025, to avoid interest")],
    ]
    assert str(_amount(rows)) == "16889.46"


def test_amount_with_unreadable_cents_loses_to_the_agreeing_readings() -> None:
    rows: list[Row] = [
        [(40, "Amount due: $8,470 47")],
        [(40, "")],
        [(40, "Amount due by April 8, 2019"), (300, "$8,470.47")],
        [(40, "Pay the amount due of $8,470.47 by April 8, 2019.")],
    ]
    assert str(_amount(rows)) == "8470.47"
    # The cut reading supports the full one instead of standing as a rival $8,470.00.
    assert extract(doc(rows)).conflicts == []
    owe = [[(40, "Our records show you owe $1,081 7Bir in unpaid taxes")], [(40, "")]]
    owe += [[(40, "Pay in the amount of $1,081.75.")]]
    assert str(_amount(owe)) == "1081.75"


def test_refund_sentence_below_an_owe_label_is_not_the_amount_due() -> None:
    rows: list[Row] = [
        [(40, "We applied your $1,890.74 overpayment to the amount you owe for")],
        [(40, "other tax years. As a result, you are due a refund of $1,557.00.")],
    ]
    assert _amount(rows) is None


def test_scam_demands_are_its_amount_due() -> None:
    fee = [[(40, "A one-time processing fee of $34.14 must be paid by prepaid card.")]]
    assert str(_amount(fee)) == "34.14"
    assert str(_amount([[(40, "Balance owed: $7,074")]])) == "7074"
    memo = [
        [(40, "A WARRANT HAS BEEN ISSUED FOR FAILURE")],
        [(40, "TO PAY $1,823.38 IN FEDERAL TAXES.")],
    ]
    assert str(_amount(memo)) == "1823.38"


def test_deadline_with_a_time_of_day() -> None:
    rows: list[Row] = [
        [(380, "Notice date"), (470, "August 1, 2019")],
        [(40, "Unless this amount is paid by 5:00 PM on August 15, 2019, we will act.")],
    ]
    assert str(extract(doc(rows)).fields.response_date.value) == "2019-08-15"


def test_deadline_wrapped_onto_the_next_line() -> None:
    rows: list[Row] = [
        [(380, "02/06/2023")],
        [(40, "To stop the seizure of your bank accounts you must pay $6,667.61 by")],
        [(40, "February 16, 2023. Call us today.")],
    ]
    assert str(extract(doc(rows)).fields.response_date.value) == "2023-02-16"


def _billing(penalty: str) -> list[Row]:
    return [
        [(380, "Notice"), (470, "CP14")],
        [(380, "Tax year"), (470, "2022")],
        [(380, "Notice date"), (470, "May 6, 2024")],
        [(40, "You owe money on your 2022 taxes")],
        [(340, "Billing Summary")],
        [(340, "Amount you owed"), (500, "$1,000.00")],
        [(340, "Failure-to-pay penalty"), (500, penalty)],
        [(340, "Interest charges"), (500, "30.00")],
        [(340, "Amount due by May 27, 2024"), (500, "$1,050.00")],
    ]


def test_billing_summary_that_adds_up_makes_the_total_surer() -> None:
    result = extract(doc(_billing("20.00")))
    assert str(result.fields.amount_due.value) == "1050.00"
    assert result.fields.amount_due.confidence >= 0.95
    assert not result.conflicts


def test_billing_summary_that_does_not_add_up_routes_to_review() -> None:

    result = extract(doc(_billing("80.00")))
    assert any("billing summary" in c for c in result.conflicts)
    review = route(
        result.fields,
        load_catalog().get("CP14"),
        Scam(verdict="genuine"),
        is_irs_letter=True,
        conflicts=result.conflicts,
    )
    assert review.needed
    assert any("add up" in r for r in review.reasons)


def test_printed_deadline_without_a_readable_date_is_a_conflict() -> None:
    rows: list[Row] = [
        [(380, "Notice date"), (470, "May 6, 2024")],
        [(40, "Amount due by"), (300, "Jnne 2?, 2O2")],
    ]
    result = extract(doc(rows))
    assert result.fields.response_date.value is None
    assert any("deadline is printed" in c for c in result.conflicts)
    assert not extract(doc([[(40, "You can pay by phone or by mail.")]])).conflicts


def test_missing_or_implausible_tax_year_routes_to_review() -> None:

    def reasons(years: list[int], confidence: float = 0.95) -> list[str]:
        fields = Fields(
            notice_code=FieldValue[str](value="CP14", confidence=0.95),
            notice_date=FieldValue(value=dt.date(2024, 5, 6), confidence=0.95),
            tax_years=FieldValue[list[int]](value=years, confidence=confidence),
        )
        entry = load_catalog().get("CP14")
        return route(fields, entry, Scam(verdict="genuine"), is_irs_letter=True).reasons

    assert "no tax year or period found" in reasons([])
    assert any("implausibly old" in r for r in reasons([2004, 2022]))
    assert not [r for r in reasons([2022]) if "tax year" in r]
    assert any("tax_years read with low confidence" in r for r in reasons([2021, 2022], 0.66))


def test_notice_date_misread_into_the_future_routes_to_review() -> None:
    """A letter is read after it is printed: "2018" read "2038" is a misread, not a date."""

    def reasons(notice: dt.date) -> list[str]:
        fields = Fields(
            notice_code=FieldValue[str](value="CP14", confidence=0.95),
            notice_date=FieldValue(value=notice, confidence=0.95),
            tax_years=FieldValue[list[int]](value=[2016], confidence=0.95),
        )
        entry = load_catalog().get("CP14")
        today = dt.date(2024, 6, 1)
        return route(
            fields, entry, Scam(verdict="genuine"), is_irs_letter=True, today=today
        ).reasons

    assert any("in the future" in r for r in reasons(dt.date(2038, 1, 22)))
    # dated days ahead of the day it is opened, as the IRS does: not a reason
    assert not [r for r in reasons(dt.date(2024, 6, 10)) if "future" in r]
    assert not [r for r in reasons(dt.date(2018, 1, 22)) if "future" in r]


def test_table_row_lost_to_ocr_makes_the_years_unsure() -> None:
    rows: list[Row] = [
        [(380, "Notice date"), (470, "October 24, 2016")],
        [(150, "Type of Tax"), (260, "Tax Period")],
        [(260, "12/31/2009"), (380, "04/17/2010")],
        [(260, "81/2010 0R/2ON.")],
    ]
    years = extract(doc(rows)).fields.tax_years
    assert years.value == [2009]
    assert years.confidence < 0.9


def test_labels_survive_a_speck_and_a_misread_letter() -> None:
    """'Tax. years' is still the label, and a 'Tax Perlod' header still owns the dates below."""
    speck = [
        [(380, "Notice date"), (470, "January 7, 2019")],
        [(380, "Tax. years"), (470, "2012 and 2013")],
    ]
    assert extract(doc(speck)).fields.tax_years.value == [2012, 2013]
    table: list[Row] = [
        [(380, "Notice date"), (470, "October 1, 2020")],
        [(200, "Tax Perlod"), (320, "Date of Assessment")],
        [(200, "12/31/2014"), (320, "09/24/2015")],
        [(200, "12/31/2015"), (320, "07/16/2016")],
    ]
    assert extract(doc(table)).fields.tax_years.value == [2014, 2015]


def test_phone_a_digit_or_two_off_an_irs_number_is_kept_but_not_trusted() -> None:
    for printed in ["860-829-8374", "806-829-6922"]:  # one and two digits off
        rows: list[Row] = [[(380, "To contact us"), (470, f"Phone 1-{printed}")]]
        phone = extract(doc(rows)).fields.irs_phone
        assert phone.value == printed  # never repaired into the IRS's number
        assert phone.confidence <= 0.7
    rows = [[(380, "To contact us"), (470, "Phone 1-800-829-8374")]]
    assert extract(doc(rows)).fields.irs_phone.confidence >= 0.9


def test_summary_line_item_is_no_rival_to_its_total() -> None:
    """'Amount you owe $8,450.00' heading a billing summary is a line, not a second total."""
    rows: list[Row] = [
        [(40, "Amount due: $9,009.99")],
        [(340, "Billing Summary")],
        [(340, "Amount you owe"), (500, "$8,450.00")],
        [(340, "Failure-to-pay penalty"), (500, "550.00")],
        [(340, "Interest charges"), (500, "9.99")],
        [(340, "Amount due by February 20, 2019"), (500, "$9,009.99")],
    ]
    result = extract(doc(rows))
    assert str(result.fields.amount_due.value) == "9009.99"
    assert result.conflicts == []


def test_earlier_notice_and_prose_amounts_raise_no_false_conflict() -> None:
    """'Our notice dated January 21' is an earlier notice, not a rival notice date; a penalty
    table below a sentence that mentions 'the unpaid amount due' is not a rival total."""
    rows: list[Row] = [
        [(380, "Notice date"), (470, "March 10, 2020")],
        [(40, "Amount due: $1,552.91")],
        [(40, "Our notice dated January 21, 2020 asked you to pay.")],
        [(40, "we charge a penalty of 0.5% of the unpaid amount due per month")],
        [(40, "")],
        [(40, "Total penalty"), (300, "$13.22")],
    ]
    result = extract(doc(rows))
    assert str(result.fields.notice_date.value) == "2020-03-10"
    assert str(result.fields.amount_due.value) == "1552.91"
    assert result.conflicts == []


def test_tax_year_in_a_sentence_owns_no_cell_beside_it() -> None:
    rows: list[Row] = [
        [(380, "Tax year"), (470, "2015")],
        [(380, "Notice date"), (470, "August 31, 2017")],
        [
            (40, "place for this tax year, then continue with that agreement."),
            (340, "Amount due by September 21, 2017"),
        ],
    ]
    assert extract(doc(rows)).fields.tax_years.value == [2015]


def test_unknown_code_one_off_a_printed_catalog_code_is_its_misread() -> None:
    rows: list[Row] = [[(380, "Notice name CP501."), (470, "")]]
    page2: list[Row] = [[(380, "Notice CP591 | Notice date March 17, 2025")]]
    assert extract(doc(rows, page2)).fields.notice_code.value == "CP501"
    # A scam's own code in its reference box is not swapped for a real code it mentions.
    scam: list[Row] = [
        [(380, "Notice CP2001")],
        [(40, "This is about the CP2000 we may have sent you.")],
    ]
    assert extract(doc(scam)).fields.notice_code.value == "CP2001"


def test_masked_number_as_a_fax_reads_it_still_gives_its_last_four() -> None:
    for printed, last in [("XXX-XXK-3135", "3135"), ("***-**.9071", "9071")]:
        fields = extract(doc([[(60, "Your SSN")], [(60, printed)]])).fields
        assert fields.taxpayer_id_last4.value == last


def test_a_speck_beside_a_label_does_not_hide_its_value() -> None:
    """Dust read as a two-point-tall 'a' between 'Total' and its amount on a faded scan: the
    amount further along the row is still the label's."""
    p = page([[(200, "Total"), (500, "$21,473.90")]])
    p.lines.append(Line([Word("a", (320, 39.0, 331, 41.0), 0.5, "ocr")], row=0))
    p.lines.append(Line([Word("Ze", (372, 40.0, 381, 42.0), 0.4, "ocr")], row=0))
    assert extract(Document([p])).fields.amount_due.value == Decimal("21473.90")


def test_a_form_row_names_its_period_when_the_header_is_lost() -> None:
    """A faded table header ('Tax form Tae Period Enews') labels nothing, but a row that opens
    with its form gives the period in the next cell; a form named in a sentence does not."""
    rows: list[Row] = [
        [(46, "TaxForm = ~S~sSse Perit Ente"), (465, "Proposed Penalty")],
        [(46, "Form 941"), (200, "06/30/2021"), (512, "21,473.90")],
        [(200, "Total"), (505, "$21,473.90")],
    ]
    assert extract(doc(rows)).fields.tax_years.value == [2021]
    prose = [[(40, "Send us Form 12153 by 03/25/2017 to request a hearing.")]]
    assert extract(doc(prose)).fields.tax_years.value == []


def test_a_period_date_with_a_mangled_month_still_gives_its_year() -> None:
    """'42/31/2015' (12 read 42) is no date, but a period column only needs its year."""
    rows: list[Row] = [
        [(180, "Tax Period"), (300, "Date of Assessment")],
        [(168, "42/31/2015"), (307, "05/26/2016")],
        [(185, "12/31/2016"), (308, "10/21/2017")],
    ]
    assert extract(doc(rows)).fields.tax_years.value == [2015, 2016]


def test_what_is_left_of_a_code_is_read_with_the_title_that_names_it() -> None:
    """A faded LT11 read 'LT', 'tril' or 'LT1i1': with the letter's title naming LT11 the
    remains are enough, at a confidence that sends the record to review; without the title,
    or with remains that fit another code, no code is read."""
    title = "Notice of intent to levy and notice of your right to a hearing"

    def code(printed: str, heading: str) -> FieldValue[str]:
        rows: list[Row] = [
            [(380, "Notice"), (470, printed)],
            [(380, "Notice date"), (470, "August 29, 2022")],
            [(40, heading)],
        ]
        return extract(doc(rows)).fields.notice_code

    for printed in ["LT", "tril", "LT."]:
        found = code(printed, title)
        assert found.value == "LT11" and found.confidence < 0.9, printed
        assert code(printed, "Your balance is overdue").value is None, printed
    assert code("CP", title).value is None
    assert code("mit", title).value is None
    # ACS letters print the code alone at the top of the page, with no label
    for heading, want in [(title, "LT11"), ("Your balance is overdue", None)]:
        rows: list[Row] = [[(510, "LT1i1")], [(380, "Notice date"), (470, "August 29, 2022")]]
        assert extract(doc([*rows, [(40, heading)]])).fields.notice_code.value == want


def test_a_spelled_date_with_its_comma_read_as_a_semicolon() -> None:
    d = doc([[(380, "Notice date"), (470, "October 24; 2022")]])
    assert extract(d).fields.notice_date.value == dt.date(2022, 10, 24)


def test_a_dates_zero_read_as_six_is_repaired_where_no_year_could_be() -> None:
    """A faded or faxed 0 reads as 6: 'June 24, 2620' and 'August 36, 2623' can only be 2020
    and August 30, 2023; a possible year or day is left as printed."""
    for printed, want in [
        ("June 24, 2620", dt.date(2020, 6, 24)),
        ("August 36, 2623", dt.date(2023, 8, 30)),
        ("August 26, 2023", dt.date(2023, 8, 26)),
    ]:
        d = doc([[(380, "Notice date"), (470, printed)]])
        assert extract(d).fields.notice_date.value == want, printed


def test_an_amount_printed_without_cents_joins_its_reading_with_cents() -> None:
    """'$14,242.' with the cents under a stamp, and '$14,242.05' in the stub: one total."""
    rows: list[Row] = [
        [(56, "Amount due immediately: $14,242.")],
        [(40, "")],
        [(52, "Amount due immediately"), (505, "$14,242.05")],
    ]
    found = extract(doc(rows)).fields.amount_due
    assert found.value == Decimal("14242.05") and found.confidence >= 0.9


def test_ocr_slips_in_a_date_label_and_its_date_are_tolerated() -> None:
    """'Date;' for 'Date:', 'Nov, 2, 2022', 'April-27, 2021', 'Devember 21. 2020', and a numeric
    date whose slashes were read as 7s ('0172872021', only where a date label puts it)."""
    for label, printed, want in [
        ("Date;", "01/28/2021", dt.date(2021, 1, 28)),
        ("Notice date", "Nov, 2, 2022", dt.date(2022, 11, 2)),
        ("Notice date:", "April-27, 2021", dt.date(2021, 4, 27)),
        ("Notice date", "Devember 21. 2020", dt.date(2020, 12, 21)),
        ("Date;", "0172872021", dt.date(2021, 1, 28)),
    ]:
        d = doc([[(380, label), (470, printed)]])
        assert extract(d).fields.notice_date.value == want, printed
    unlabelled = doc([[(40, "Account 0172872021 is closed.")]])
    assert extract(unlabelled).fields.notice_date.value is None


def test_a_code_alone_at_the_top_or_misread_beside_a_plain_reading() -> None:
    """ACS letters print the code alone at the top ('tT 16' is LT16); '(T16' beside a Notice
    label is LT16; 'CPO0O5' in the box beside a plain 'CP05' on page 2 is that CP05."""
    top = doc([[(508, "tT 16")], [(390, "Notice date:"), (480, "April 27, 2021")]])
    assert extract(top).fields.notice_code.value == "LT16"
    assert extract(doc([[(359, "Notice"), (465, "(T16")]])).fields.notice_code.value == "LT16"
    two = doc(
        [[(437, "Notice name CPO0O5")], [(437, "Notice date November 30, 2021")]],
        [[(52, "Notice CPO5")]],
    )
    assert extract(two).fields.notice_code.value == "CP05"


def test_a_period_row_lost_to_ocr_beside_a_read_row_makes_the_years_unsure() -> None:
    """The second period of a lien table read as 'a TBA' beside its assessment date: the year
    read is right as far as it goes, but the field is not trusted; a total row under the table
    ('Amount due by September 25, 2017') is no lost row."""
    rows: list[Row] = [
        [(68, "Type of Tax Tax Period ee"), (310, "Date of Assessment"), (459, "Amount Owed")],
        [(68, "1040"), (189, "12/31/2012"), (310, "07/28/2013"), (509, "3,466.36")],
        [(68, "AQMO"), (137, "a TBA"), (310, "10/05/2014"), (516, "808.86")],
    ]
    years = extract(doc(rows)).fields.tax_years
    assert years.value == [2012] and years.confidence < 0.9
    rows[2] = [(295, "Amount due by September 25, 2017"), (509, "$4,275.22")]
    years = extract(doc(rows)).fields.tax_years
    assert years.value == [2012] and years.confidence >= 0.9


def test_a_letter_number_read_in_lookalike_glyphs_is_its_catalog_letter() -> None:
    """'SOTIC' and '$747C' beside a Letter Number label are Letter 5071C and 5747C; a word
    there ('date:') or a number the catalog does not know ('SOTO') reads as no code."""
    for printed, want in [("SOTIC", "Letter 5071C"), ("$747C", "Letter 5747C"), ("SOTO", None)]:
        d = doc([[(372, "Letter Number:"), (492, printed)]])
        assert extract(d).fields.notice_code.value == want, printed
    d = doc([[(405, "Letter date:"), (502, "May 28, 2021")]])
    assert extract(d).fields.notice_code.value is None


def test_a_stamp_date_printed_over_the_letter_is_not_its_date() -> None:
    """An unlabelled date high on page 1 is the letter's date, unless it is printed over the
    letter's own lines (a mailroom stamp whose 'RECEIVED' was lost)."""
    body: list[Row] = [
        [(69, "Unclaimed Stimulus Payment Notification")],
        [(68, "Our records show you are eligible for an unclaimed stimulus payment.")],
    ]
    alone = page([[(470, "July 22, 2021")], *body])
    assert extract(Document([alone])).fields.notice_date.value == dt.date(2021, 7, 22)
    stamped = page(body)
    stamped.lines.append(Line([Word("JAN 26 2024", (364, 45.0, 461, 62.0), 0.6, "ocr")], row=1))
    assert extract(Document([stamped])).fields.notice_date.value is None


def test_a_year_list_with_an_item_read_as_no_year_is_not_trusted() -> None:
    """'WW, 2021, 2022' and '2019, 2626' beside 'Tax periods': a year was lost, so the years
    read go to review; 'December 31, 2022' or '2019, 2020' are read as they are."""

    def years(printed: str) -> FieldValue[list[int]]:
        rows: list[Row] = [
            [(380, "Notice date"), (470, "April 14, 2023")],
            [(380, "Tax periods"), (470, printed)],
        ]
        return extract(doc(rows)).fields.tax_years

    for printed, want in [("WW, 2021, 2022", [2021, 2022]), ("2019, 2626", [2019])]:
        found = years(printed)
        assert found.value == want and found.confidence < 0.8, printed
    for printed, want in [("December 31, 2022", [2022]), ("2019, 2020", [2019, 2020])]:
        found = years(printed)
        assert found.value == want and found.confidence >= 0.8, printed


def test_specks_between_a_dates_day_and_year_are_passed_over() -> None:
    d = doc([[(413, "Notice date:"), (505, "April 27,..2020")]])
    assert extract(d).fields.notice_date.value == dt.date(2020, 4, 27)


def test_a_stamps_rows_between_a_header_and_its_column_do_not_hide_the_value() -> None:
    """A stamp read as rows of its own beside the column ('-Assessment-', a speck) pushes the
    period three rows under 'Tax Period': the rows with nothing under the header do not count."""
    p = page(
        [
            [(70, "Type of Tax"), (194, "Tax Period"), (495, "Amount Owed")],
            [(353, "-Assessment-")],
            [(455, "OR Cavs")],
            [(71, "1040"), (195, "12/31/2016"), (318, "07/13/2017"), (524, "3,396.48")],
            [(318, "Total"), (515, "$3,396.48")],
        ]
    )
    p.lines.append(Line([Word("p", (200, 52.0, 206, 54.0), 0.3, "ocr")], row=1))
    assert extract(Document([p])).fields.tax_years.value == [2016]


def test_a_sentence_that_ends_on_the_labels_line_owns_no_amount_below() -> None:
    """'... overpayment to an amount owed for 2015.' / 'As a result, your refund has been
    reduced to' / '$43.24.': the amount below belongs to the next sentence, a refund."""
    rows: list[Row] = [
        [(53, "We applied your 2017 Form 1040 overpayment to an amount owed for 2015.")],
        [(53, "As a result, your refund has been reduced to"), (300, "$43.24.")],
    ]
    assert extract(doc(rows)).fields.amount_due.value is None


def test_a_misread_period_year_makes_the_years_unsure() -> None:
    """A period column where one year cannot be right ('12/31/2049' on a letter of 2021) or one
    cell reads as no date ('12/31/2G19') may be missing a year: the years read go to review.
    A faxed '12/31/2619' is 2019."""
    table: list[Row] = [
        [(380, "Notice date"), (470, "March 3, 2021")],
        [(46, "Type of Tax"), (173, "Tax Period"), (302, "Date of Assessment")],
        [(46, "940"), (174, "12/31/2049"), (302, "05/11/2020")],
        [(46, "940"), (174, "12/31/2020"), (302, "05/10/2021")],
    ]
    years = extract(doc(table)).fields.tax_years
    assert years.value == [2020] and years.confidence < 0.8
    table[2] = [(46, "940"), (174, "12/31/2G19"), (302, "05/11/2020")]
    years = extract(doc(table)).fields.tax_years
    assert years.value == [2020] and years.confidence < 0.8
    table[2] = [(46, "940"), (174, "12/31/2619"), (302, "05/11/2020")]
    assert extract(doc(table)).fields.tax_years.value == [2019, 2020]


def test_a_credit_printed_as_the_amount_due_is_read_as_one_and_routed() -> None:
    """'Amount due: -$408.64' (deposits above the tax) is what the letter says: a credit, read
    with its sign, and a balance due notice owing nothing goes to a person. A dash set apart
    from the amount is no sign, and a credit down a column is a line item, not the total."""
    rows: list[Row] = [
        [(380, "Notice"), (470, "CP14")],
        [(380, "Notice date"), (470, "May 6, 2024")],
        [(40, "Amount due: -$408.64")],
    ]
    result = extract(doc(rows))
    assert str(result.fields.amount_due.value) == "-408.64"
    review = route(
        result.fields, load_catalog().get("CP14"), Scam(verdict="genuine"), is_irs_letter=True
    )
    assert any("credit" in r for r in review.reasons)
    assert _amount([[(40, "Amount due - $500.00")]]) is None
    column: list[Row] = [[(300, "Amount due")], [(300, "-$1,200.00")]]
    assert _amount(column) is None


def test_a_numeric_dates_month_with_its_zero_read_as_six_is_repaired() -> None:
    """'62/25/2025' has no month 62: the faxed 0 of 02, as in years read 26xx."""
    d = doc([[(380, "Date:"), (470, "62/25/2025")]])
    assert extract(d).fields.notice_date.value == dt.date(2025, 2, 25)


def test_a_period_row_run_together_with_its_neighbours_makes_the_years_unsure() -> None:
    """'1040 A Wend ... 12/31/2015': OCR ran a row's cells into one line whose date sits under the
    Tax Period column; the row is not a sentence below the table, and its period may be lost."""
    rows: list[Row] = [
        [(60, "Type of Tax"), (185, "Tax Period"), (300, "Amount Owed")],
        [(62, "1040"), (186, "12/31/2014"), (500, "5,642.80")],
        [(62, "1040 A Wend eee RU CN eens 12/31/2015"), (500, "42,374.44")],
    ]
    years = extract(doc(rows)).fields.tax_years
    assert 2014 in years.value
    assert years.confidence < 0.8


def test_a_deadline_that_disagrees_with_another_reading_of_it_is_not_trusted() -> None:
    """A page whose 0s read as 6s: the notice date and the header's deadline both say 2026, the
    body's deadline twice says 2020. Which year is right the page cannot tell, so the deadline
    kept is unsure, even though it sits the catalog's 30 days after the notice date."""
    rows: list[Row] = [
        [(380, "Notice"), (470, "LT11")],
        [(380, "Date:"), (470, "08/31/2026")],
        [(380, "Last Date to Request a Hearing:"), (540, "09/30/2026")],
        [(40, "Request a hearing by 09/30/2020, or we may levy your income")],
        [(40, "If you don't file Form 12153 by 09/30/2020, you will lose the right")],
    ]
    response = extract(doc(rows)).fields.response_date
    assert response.value == dt.date(2026, 9, 30)
    assert response.confidence < 0.9


def test_a_form_number_label_cut_by_the_lines_end_still_names_the_form() -> None:
    """The stub's wording on real CP523/CP503 samples: "..., the tax year (2017), and form" /
    "number (1040) on your payment." with no other "Form 1040" on the page."""
    stub = "Write your taxpayer identification number (NNN-NN-NNNN), the tax year (2017), and"
    rows: list[Row] = [[(40, stub + " form")], [(40, "number (1040) on your payment.")]]
    form = extract(doc(rows)).fields.tax_form
    assert form.value == "1040"
    assert form.confidence >= 0.9  # the label's own value, not a guess from a mention


def test_an_amount_in_a_condition_or_a_threshold_is_not_the_amount_due() -> None:
    """ "If you owe $50,000 or less, ... a payment plan" explains a rule, also with OCR's "{f"
    for "If"; it demands nothing."""
    for text in (
        "{f you owe $50,000 or less, the agency can offer you a payment plan of up to 7 years.",
        "If you owe $50,000 or less, you can apply online.",
        "Amount you owe: $25,000 or more",
    ):
        assert _amount([[(40, text)]]) is None, text
    assert str(_amount([[(40, "You owe $1,234.56 now.")]])) == "1234.56"


def test_a_header_line_of_several_labels_still_heads_its_period_column() -> None:
    """ "Tax form Tax period ending" read as one line is a header row, not a sentence: every
    period down its column counts, not the first alone."""
    rows: list[Row] = [
        [(380, "Notice date"), (470, "February 19, 2024")],
        [(66, "Tax form Tax period ending")],
        [(132, "December 31, 2019")],
        [(132, "December 31, 2020")],
        [(132, "December 31, 2023")],
    ]
    assert extract(doc(rows)).fields.tax_years.value == [2019, 2020, 2023]
