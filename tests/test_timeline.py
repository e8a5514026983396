"""Timeline: exact dates from printed deadlines, catalog windows, rights and legal holidays.

Every expected date below was counted by hand from the rule named beside it (the comments show
the count), so a change in the arithmetic, the holiday calendar or the catalog fails here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest

from ingest.catalog import load_catalog
from ingest.record import AmountField, CaseRecord, Fields, FieldValue, Source, TimelineStep
from ingest.report import summary
from ingest.timeline import (
    add_business_days,
    add_years,
    build_timeline,
    is_business_day,
    legal_holiday,
    next_business_day,
)

CATALOG = load_catalog()
TODAY = date(2026, 1, 15)
PRINTED = "printed on the letter"


def fields(
    notice_date: date | None,
    response_date: date | None = None,
    amount: str | None = None,
    code: str | None = None,
) -> Fields:
    return Fields(
        notice_code=FieldValue[str](value=code),
        notice_date=FieldValue[date](value=notice_date),
        response_date=FieldValue[date](value=response_date),
        amount_due=AmountField(value=Decimal(amount) if amount else None),
    )


def timeline(
    code: str | None,
    notice_date: date | None,
    response_date: date | None = None,
    amount: str | None = None,
    *,
    verdict: str = "genuine",
    foreign: bool = False,
    today: date = TODAY,
) -> list[TimelineStep]:
    entry = CATALOG.get(code) if code else None
    if code:
        assert entry is not None, code
    f = fields(notice_date, response_date, amount, code)
    return build_timeline(f, entry, verdict, today=today, foreign_address=foreign)


def of_kind(steps: list[TimelineStep], kind: str) -> list[TimelineStep]:
    return [s for s in steps if s.kind == kind]


def right(steps: list[TimelineStep], words: str) -> TimelineStep:
    found = [s for s in of_kind(steps, "right") if words in s.action]
    assert len(found) == 1, (words, [s.action for s in of_kind(steps, "right")])
    return found[0]


def has_payment_options(steps: list[TimelineStep]) -> bool:
    return any(s.action.startswith("Pay in full") for s in of_kind(steps, "option"))


# ---------------------------------------------------------------------------------------------
# Holiday arithmetic (IRC 7503: weekends, federal and DC legal holidays, observed dates)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "rolled"),
    [
        (date(2026, 7, 4), date(2026, 7, 6)),  # Sat Independence Day; Fri 3 Jul is observed
        (date(2026, 7, 3), date(2026, 7, 6)),  # the observed Friday itself is a legal holiday
        (date(2026, 4, 16), date(2026, 4, 17)),  # Thu: DC Emancipation Day
        (date(2022, 4, 15), date(2022, 4, 18)),  # Fri: Emancipation Day observed (16th a Sat)
        (date(2023, 4, 17), date(2023, 4, 18)),  # Mon: Emancipation Day observed (16th a Sun)
        (date(2026, 11, 26), date(2026, 11, 27)),  # Thanksgiving (fourth Thursday)
        (date(2027, 12, 31), date(2028, 1, 3)),  # Fri: New Year's Day 2028 (a Sat) observed
        (date(2021, 12, 31), date(2022, 1, 3)),  # the same rule for 1 Jan 2022
        (date(2025, 1, 20), date(2025, 1, 21)),  # Inauguration Day (DC) and MLK Day
        (date(2019, 2, 18), date(2019, 2, 19)),  # Washington's Birthday
        (date(2026, 5, 25), date(2026, 5, 26)),  # Memorial Day
        (date(2026, 6, 19), date(2026, 6, 22)),  # Fri Juneteenth, then the weekend
        (date(2026, 3, 7), date(2026, 3, 9)),  # plain Saturday
        (date(2026, 3, 10), date(2026, 3, 10)),  # plain Tuesday stays
    ],
)
def test_next_business_day(day: date, rolled: date) -> None:
    assert next_business_day(day) == rolled


def test_dc_holidays_are_legal_holidays_but_not_only_federal_ones() -> None:
    assert "Emancipation" in (legal_holiday(date(2026, 4, 16)) or "")
    assert "Inauguration" in (legal_holiday(date(2021, 1, 20)) or "")
    assert "observed" in (legal_holiday(date(2027, 12, 31)) or "")
    assert legal_holiday(date(2026, 4, 15)) is None  # an ordinary Wednesday
    assert not is_business_day(date(2026, 11, 26))
    assert is_business_day(date(2026, 11, 25))


@pytest.mark.parametrize(
    ("start", "n", "end"),
    [
        (date(2026, 11, 20), 5, date(2026, 11, 30)),  # skips the weekend and Thanksgiving
        (date(2026, 1, 2), 5, date(2026, 1, 9)),
        (date(2026, 7, 1), 2, date(2026, 7, 6)),  # Thu 2, then Fri 3 (observed) is skipped
        (date(2026, 3, 10), 0, date(2026, 3, 10)),
    ],
)
def test_add_business_days(start: date, n: int, end: date) -> None:
    assert add_business_days(start, n) == end


def test_add_years_keeps_the_date_and_handles_29_february() -> None:
    assert add_years(date(2026, 3, 16), 1) == date(2027, 3, 16)
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)


# ---------------------------------------------------------------------------------------------
# End to end: Fields + catalog entry -> timeline, one row per notice code
# ---------------------------------------------------------------------------------------------


@dataclass
class Case:
    code: str
    notice_date: date | None
    deadline: date | None  # date of the kind="deadline" step; None when it is undated/absent
    printed: date | None = None
    amount: str | None = None
    foreign: bool = False
    basis: str = ""  # the deadline's basis must contain this ("" = not checked)
    rights: dict[str, date | None] = field(default_factory=dict)  # action words -> date
    expected: date | None = None  # date of the "if nothing is done" step
    payment_options: bool = False
    no_deadline: bool = False  # the letter asks for nothing by a date


CASES = [
    # Real IRS sample notices (shared/realtext headers): the catalog window reproduces the
    # deadline the IRS printed, including its roll past a holiday.
    Case("CP14", date(2018, 1, 30), date(2018, 2, 20), amount="1000.00",
         basis="catalog: CP14, 21 days from notice date (",
         expected=date(2018, 3, 6), payment_options=True),  # Jan 30 + 35 days
    Case("CP501", date(2019, 1, 28), date(2019, 2, 19), amount="250.00",
         basis="rolled from Mon 2019-02-18 (Washington's Birthday) to Tue 2019-02-19 (IRC 7503)",
         expected=date(2019, 3, 4), payment_options=True),
    Case("CP71C", date(2019, 1, 30), date(2019, 2, 20), amount="900.00", payment_options=True),
    Case("CP90", date(2019, 1, 23), date(2019, 2, 22), amount="5000.00", payment_options=True,
         rights={"Collection Due Process": date(2019, 2, 22),
                 "equivalent hearing": date(2020, 1, 23),
                 "Tax Court within 30 days of Appeals": None}),
    Case("CP11", date(2018, 1, 30), date(2018, 2, 20), amount="300.00", payment_options=True,
         rights={"math-error change": date(2018, 4, 2)}),  # +60 = Sat 31 Mar -> Mon 2 Apr
    # Catalog windows, rolled under IRC 7503.
    Case("CP503", date(2026, 3, 2), date(2026, 3, 12), amount="80.00",
         expected=date(2026, 4, 6), payment_options=True),
    Case("CP504", date(2026, 6, 4), date(2026, 7, 6), amount="4512.33",
         basis="catalog: CP504, 30 days from notice date (irs-cp504b, irs-sample-cp504); "
         "rolled from Sat 2026-07-04 (Independence Day) to Mon 2026-07-06 (IRC 7503)",
         rights={"Collection Appeals Program": None}, payment_options=True),
    Case("CP161", date(2026, 5, 15), date(2026, 5, 26), amount="10.00",  # Memorial Day
         payment_options=True),
    Case("LT16", date(2026, 1, 9), date(2026, 1, 20), amount="700.00",  # MLK Day
         rights={"Independent Office of Appeals before the IRS acts": None},
         payment_options=True),
    Case("Letter 1058", date(2026, 3, 13), date(2026, 4, 13), payment_options=True,
         rights={"Collection Due Process": date(2026, 4, 13),  # +30 = Sun 12 Apr
                 "equivalent hearing": date(2027, 3, 15),  # Sat 13 Mar 2027 -> Mon
                 "Collection Appeals Program": None}),
    Case("LT11", date(2026, 3, 16), date(2026, 4, 15), printed=date(2026, 4, 15),
         basis=PRINTED, payment_options=True,
         rights={"Collection Due Process": date(2026, 4, 15),  # printed date wins
                 "equivalent hearing": date(2027, 3, 16)}),
    # Lien: 5 business days (Thanksgiving skipped) to Mon 30 Nov, then 30 days.
    Case("Letter 3172", date(2026, 11, 20), date(2026, 12, 30), payment_options=True,
         basis="5 business days then 30 days from notice date",
         rights={"Collection Due Process": date(2026, 12, 30),
                 "equivalent hearing": date(2027, 11, 30)}),
    Case("CP90C", date(2026, 9, 4), date(2026, 10, 5),  # +30 = Sun 4 Oct
         rights={"post-levy Collection Due Process": date(2026, 10, 5)}),
    # Deficiency: 90 days, or 150 when addressed abroad; the printed last day wins.
    Case("CP3219A", date(2026, 1, 2), date(2026, 4, 2),
         rights={"petition the U.S. Tax Court": date(2026, 4, 2)}),
    Case("CP3219A", date(2026, 1, 2), date(2026, 6, 1), foreign=True,
         basis="address outside the United States (IRC 6213(a)), 150 days",
         rights={"petition the U.S. Tax Court": date(2026, 6, 1)}),
    Case("CP3219A", date(2026, 1, 2), date(2026, 3, 30), printed=date(2026, 3, 30),
         basis=PRINTED, rights={"petition the U.S. Tax Court": date(2026, 3, 30)}),
    Case("CP3219N", date(2026, 1, 16), date(2026, 4, 17),  # +90 = 16 Apr, DC Emancipation Day
         basis="rolled from Thu 2026-04-16 (Emancipation Day) to Fri 2026-04-17",
         rights={"petition the U.S. Tax Court": date(2026, 4, 17)}),
    Case("Letter 3219", date(2026, 2, 2), date(2026, 7, 2), foreign=True,
         rights={"petition the U.S. Tax Court": date(2026, 7, 2)}),
    # TFRP: 60 days, 75 abroad (IRM 5.7.6); the Appeals protest shares the window.
    Case("Letter 1153", date(2026, 1, 5), date(2026, 3, 6),
         rights={"Independent Office of Appeals": date(2026, 3, 6)}),
    Case("Letter 1153", date(2026, 1, 5), date(2026, 3, 23), foreign=True,  # Sat 21 Mar -> Mon
         rights={"Independent Office of Appeals": date(2026, 3, 23)}),
    # Underreporter and non-filer: reply windows, next notice.
    Case("CP2000", date(2026, 5, 29), date(2026, 6, 29),  # +30 = Sun 28 Jun
         rights={"Independent Office of Appeals": date(2026, 6, 29)}),
    Case("CP2501", date(2026, 1, 10), date(2026, 2, 9)),
    Case("CP59", date(2019, 1, 28), date(2019, 2, 27), expected=date(2019, 3, 25)),  # +56
    Case("CP523", date(2019, 1, 30), date(2019, 3, 1), amount="2000.00", payment_options=True,
         rights={"Collection Appeals Program": None}),
    # Math error without a bill: no deadline, but the 60-day abatement right.
    Case("CP12", date(2026, 3, 2), None, no_deadline=True,
         rights={"math-error change": date(2026, 5, 1)}),
    # Identity: +30 lands on Fri 31 Dec 2027, New Year's Day (observed) -> Mon 3 Jan 2028.
    Case("Letter 5071C", date(2027, 12, 1), date(2028, 1, 3),
         basis="rolled from Fri 2027-12-31 (New Year's Day (observed)) to Mon 2028-01-03"),
    # No window in the catalog: an undated deadline that says so.
    Case("CP14H", date(2026, 2, 2), None, amount="695.00", payment_options=True,
         basis="gives no fixed window"),
    Case("Form 668-A", date(2026, 2, 2), None, amount="3100.00", payment_options=True,
         rights={"levy to be released": None, "Collection Appeals Program": None}),
    # Letters that ask for nothing.
    Case("CP40", date(2026, 3, 2), None, no_deadline=True),
    Case("CP05", date(2026, 3, 2), None, no_deadline=True),
    Case("CP01", date(2026, 3, 2), None, no_deadline=True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.code}-{c.notice_date}-{c.foreign}")
def test_notice_timeline(case: Case) -> None:
    steps = timeline(case.code, case.notice_date, case.printed, case.amount, foreign=case.foreign)
    deadlines = of_kind(steps, "deadline")
    if case.no_deadline:
        assert deadlines == []
    else:
        assert len(deadlines) == 1
        assert deadlines[0].date == case.deadline
        assert case.basis in deadlines[0].basis
        if case.printed is None:
            assert deadlines[0].basis.startswith("catalog: ")
    for words, when in case.rights.items():
        assert right(steps, words).date == when, words
    assert len(of_kind(steps, "right")) == len(CATALOG.get(case.code).rights)
    if case.expected is not None:
        (exp,) = of_kind(steps, "expected")
        assert exp.date == case.expected
        assert "approximate" in exp.basis
    assert has_payment_options(steps) is case.payment_options


def test_at_least_twenty_notice_codes_are_covered() -> None:
    assert len({c.code for c in CASES}) >= 20


def test_letters_that_ask_for_nothing_have_no_steps() -> None:
    for code in ("CP40", "CP05", "CP01A", "CP87A"):
        assert timeline(code, date(2026, 3, 2)) == [], code


def test_identity_letters_get_no_payment_options() -> None:
    steps = timeline("Letter 5071C", date(2026, 3, 2), amount="100.00")
    assert [s.kind for s in steps] == ["deadline"]


def test_a_credit_printed_as_the_amount_due_gets_no_payment_options() -> None:
    assert not has_payment_options(timeline("CP14", date(2026, 3, 2), amount="-408.64"))
    assert has_payment_options(timeline("CP14", date(2026, 3, 2), amount="408.64"))


def test_short_term_plan_only_under_100000() -> None:
    small = timeline("CP504", date(2026, 6, 4), amount="99999.99")
    large = timeline("CP504", date(2026, 6, 4), amount="100000.00")
    assert any("Short-term" in s.action for s in small)
    assert not any("Short-term" in s.action for s in large)
    assert any("Installment agreement" in s.action for s in large)


def test_pre_assessment_letters_offer_agree_or_dispute_not_payment_plans() -> None:
    steps = timeline("CP2000", date(2026, 5, 29), amount="1234.00")
    actions = [s.action for s in of_kind(steps, "option")]
    assert not has_payment_options(steps)
    assert any(a.startswith("If you agree") for a in actions)
    assert any(a.startswith("If you disagree") for a in actions)


def test_expected_next_notice_without_lag_is_undated() -> None:
    (exp,) = of_kind(timeline("CP504", date(2026, 6, 4)), "expected")
    assert exp.date is None
    assert exp.action.startswith("If nothing is done, expect LT11")


def test_missing_notice_date_keeps_the_rule_but_no_date() -> None:
    steps = timeline("CP504", None)
    (deadline,) = of_kind(steps, "deadline")
    assert deadline.date is None
    assert "30 days from notice date" in deadline.basis
    assert "notice date not read" in deadline.basis


def test_lien_equivalent_hearing_counts_from_the_end_of_the_five_business_days() -> None:
    steps = timeline("Letter 3172", date(2026, 1, 2))
    # 5 business days: Mon 5 .. Fri 9 Jan; +30 = Sun 8 Feb -> Mon 9 Feb.
    assert right(steps, "Collection Due Process").date == date(2026, 2, 9)
    # One year after Fri 9 Jan 2026 is Sat 9 Jan 2027 -> Mon 11 Jan.
    assert right(steps, "equivalent hearing").date == date(2027, 1, 11)


def test_tax_court_abroad_is_150_days_and_at_home_90() -> None:
    home = right(timeline("Letter 3219", date(2026, 2, 2)), "petition the U.S. Tax Court")
    away = right(
        timeline("Letter 3219", date(2026, 2, 2), foreign=True), "petition the U.S. Tax Court"
    )
    assert home.date == date(2026, 5, 4)  # +90 = Sun 3 May -> Mon 4 May
    assert away.date == date(2026, 7, 2)
    assert "150 days" in away.basis and "outside the United States" in away.basis


# ---------------------------------------------------------------------------------------------
# Scams, doubtful letters, unknown codes
# ---------------------------------------------------------------------------------------------


def test_scam_gets_only_verify_and_report_steps() -> None:
    steps = timeline("CP504", date(2026, 6, 4), date(2026, 6, 10), "9999.00", verdict="scam")
    assert [s.kind for s in steps] == ["option", "option", "option"]
    assert all(s.date is None for s in steps)
    text = " ".join(s.action for s in steps)
    assert "800-829-1040" in text and "800-366-4484" in text
    assert "Do not pay" in text
    assert not any("plan" in s.action or "Pay in full" in s.action for s in steps)


def test_suspicious_letter_verifies_first_then_keeps_the_dates() -> None:
    steps = timeline("CP504", date(2026, 6, 4), amount="100.00", verdict="suspicious")
    assert "800-829-1040" in steps[0].action
    assert of_kind(steps, "deadline")[0].date == date(2026, 7, 6)


def test_unknown_code_borrows_no_catalog_facts() -> None:
    steps = timeline(None, date(2026, 6, 4), date(2026, 6, 20), "100.00")
    (deadline,) = of_kind(steps, "deadline")
    assert deadline.date == date(2026, 6, 20) and deadline.basis == PRINTED
    assert "800-829-1040" in steps[0].action
    assert of_kind(steps, "right") == [] and not has_payment_options(steps)


# ---------------------------------------------------------------------------------------------
# Days left and urgency against --today
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "days_left", "urgency"),
    [
        (date(2026, 7, 7), -1, "overdue"),
        (date(2026, 8, 1), -26, "overdue"),
        (date(2026, 7, 6), 0, "due_within_7_days"),
        (date(2026, 6, 29), 7, "due_within_7_days"),
        (date(2026, 6, 28), 8, "upcoming"),
        (date(2026, 6, 4), 32, "upcoming"),
    ],
)
def test_urgency_against_today(today: date, days_left: int, urgency: str) -> None:
    steps = timeline("CP504", date(2026, 6, 4), today=today)  # deadline Mon 2026-07-06
    (deadline,) = of_kind(steps, "deadline")
    assert (deadline.days_left, deadline.urgency) == (days_left, urgency)
    for undated in (s for s in steps if s.date is None):
        assert undated.days_left is None and undated.urgency is None


def test_expected_notice_has_days_left_but_no_urgency() -> None:
    steps = timeline("CP14", date(2018, 1, 30), today=date(2018, 3, 1))
    (exp,) = of_kind(steps, "expected")
    assert exp.days_left == 5 and exp.urgency is None


def test_today_defaults_to_the_real_date() -> None:
    entry = CATALOG.get("CP504")
    steps = build_timeline(fields(date(2026, 6, 4)), entry, "genuine")
    (deadline,) = of_kind(steps, "deadline")
    assert deadline.days_left == (date(2026, 7, 6) - date.today()).days


def test_report_shows_days_left_and_urgency() -> None:
    record = CaseRecord(id="x" * 64, source=Source(sha256="x" * 64, path="letter.pdf"))
    record.timeline = timeline("CP504", date(2026, 6, 4), today=date(2026, 7, 1))
    assert "2026-07-06  Pay the amount due" in summary(record)
    assert "(DUE IN 5 DAYS)" in summary(record)
    record.timeline = timeline("CP504", date(2026, 6, 4), today=date(2026, 7, 9))
    assert "(OVERDUE by 3 days)" in summary(record)
    record.timeline = timeline("CP504", date(2026, 6, 4), today=date(2026, 6, 5))
    assert "(31 days left)" in summary(record)


# ---------------------------------------------------------------------------------------------
# Every catalog entry: a timeline builds, and every basis is checkable
# ---------------------------------------------------------------------------------------------

_KEY = re.compile(r"[a-z0-9.]+(?:-[a-z0-9.]+)+")


@pytest.mark.parametrize("code", sorted(CATALOG.codes))
def test_every_catalog_entry_builds_with_checkable_bases(code: str) -> None:
    for printed in (None, date(2026, 4, 1)):
        steps = timeline(code, date(2026, 3, 2), printed, "500.00")
        for s in steps:
            assert s.basis == PRINTED or s.basis.startswith("catalog: "), s.basis
            for group in re.findall(r"\(([^()]+)\)", s.basis):
                for part in group.split(", "):
                    part = part.removesuffix(" [S]")
                    if _KEY.fullmatch(part):
                        assert part in CATALOG.sources, (code, part)
            if s.kind in ("deadline", "right") and s.date is not None:
                assert s.date >= date(2026, 3, 2)
                if s.basis.startswith("catalog: "):
                    assert is_business_day(s.date), (code, s)


def test_stage_tables_use_the_catalog_vocabulary() -> None:
    from ingest import timeline as tl
    from ingest.stages import STAGE_NAMES

    used = (
        tl._COLLECTION_STAGES | tl._PRE_ASSESSMENT_STAGES | set(tl._DISPUTE_OPTION)
        | set(tl._ABROAD_DAYS)
    )
    assert used <= STAGE_NAMES
