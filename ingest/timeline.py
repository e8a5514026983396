"""Dated next steps from the printed deadline and the catalog's rules, each with its basis.

A person acts on a date only if they can check where it came from, so every step says whether
its date was printed on the letter or computed ("catalog: <rule> (<source keys>)"), and a
computed date that lands on a weekend or legal holiday is moved to the next business day the way
IRC 7503 moves it, with the move written into the basis. Facts about notices come from the one
catalog (ingest/data/notices.toml); the statutory windows of the rights are fixed in law and
live here, next to the arithmetic that applies them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

import holidays as _holidays

from .catalog import Catalog, NoticeEntry, load_catalog
from .record import Fields, TimelineStep

# ---------------------------------------------------------------------------------------------
# Legal-holiday calendar (IRC 7503)
# ---------------------------------------------------------------------------------------------
# IRC 7503 moves a last day that falls on a Saturday, Sunday or "legal holiday" to the next day
# that is none of these, and counts legal holidays in the District of Columbia (IRC 6213(a) says
# the same for Tax Court petitions). The `holidays` package's US calendar with subdiv="DC" gives
# the federal holidays plus DC's own (Emancipation Day, Inauguration Day) with their observed
# dates (a Saturday holiday is observed on the Friday before, a Sunday one on the Monday after,
# so 1 Jan 2028, a Saturday, is observed on Friday 31 Dec 2027).


@lru_cache(maxsize=64)
def _holidays_in(year: int) -> dict[date, str]:
    """One year's federal + DC legal holidays, copied into a plain dict.

    The package's calendar object fills in years lazily as it is queried; a per-year frozen copy
    keeps lookups safe when letters are processed on several threads.
    """
    return dict(_holidays.US(subdiv="DC", years=year, observed=True))


def legal_holiday(day: date) -> str | None:
    """Name of the federal or DC legal holiday (as observed) on `day`, or None."""
    return _holidays_in(day.year).get(day)


def is_business_day(day: date) -> bool:
    """Not a Saturday, Sunday or legal holiday: the days IRC 7503 lets a deadline end on."""
    return day.weekday() < 5 and legal_holiday(day) is None


def next_business_day(day: date) -> date:
    """`day` itself when it is a business day, else the first business day after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def add_business_days(day: date, n: int) -> date:
    """The n-th business day after `day` (lien notices: IRC 6320(a)(2) counts business days)."""
    while n > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            n -= 1
    return day


def add_years(day: date, n: int) -> date:
    """Same calendar date n years on; 29 February becomes 28 February, the last day of that
    one-year period, rather than spilling into March."""
    try:
        return day.replace(year=day.year + n)
    except ValueError:
        return day.replace(year=day.year + n, day=28)


def _roll(raw: date) -> tuple[date, str]:
    """The IRC 7503 date for a computed last day, and the words that explain any move."""
    due = next_business_day(raw)
    if due == raw:
        return due, ""
    why = legal_holiday(raw)
    was = f"{raw:%a} {raw}" + (f" ({why})" if why else "")
    return due, f"; rolled from {was} to {due:%a} {due} (IRC 7503)"


# ---------------------------------------------------------------------------------------------
# Words and statutory windows
# ---------------------------------------------------------------------------------------------

PRINTED = "printed on the letter"

PURPOSE_ACTION: dict[str, str] = {
    "pay": "Pay the amount due (or set up a payment arrangement) by this date",
    "respond": "Send your reply to the letter by this date",
    "contact": "Contact the IRS at the number on the letter by this date",
    "request_hearing": "Pay, or request a Collection Due Process hearing (Form 12153), by this "
    "date",
    "petition": "Last day to petition the U.S. Tax Court (the IRS assesses the tax after it)",
    "file_return": "File the missing return, or explain why you need not, by this date",
    "verify_identity": "Verify your identity as the letter asks (online or by phone) by this date",
}

# The right that the letter's own deadline is the window for, so a printed date covers both.
_PURPOSE_RIGHT: dict[str, str] = {
    "request_hearing": "cdp_hearing",
    "petition": "tax_court",
    "respond": "appeals",
}

CDP_DAYS = 30  # IRC 6320(a)(3)(B), 6330(a)(3)(B): 30 days from the notice (after the lien's 5)
LIEN_NOTICE_BUSINESS_DAYS = 5  # IRC 6320(a)(2): lien notice within 5 business days of filing
TAX_COURT_DAYS = 90  # IRC 6213(a)
TAX_COURT_DAYS_ABROAD = 150  # IRC 6213(a): notice addressed to a person outside the United States
MATH_ERROR_DAYS = 60  # IRC 6213(b)(2)(A), when the catalog gives no dispute_days
# Windows the law lengthens when the letter is addressed outside the United States, by stage.
_ABROAD_DAYS: dict[str, tuple[int, str]] = {
    "deficiency": (TAX_COURT_DAYS_ABROAD, "IRC 6213(a)"),
    "tfrp": (75, "IRM 5.7.6"),
}

IRS_LINE = "800-829-1040"
TIGTA_LINE = "800-366-4484"
SHORT_TERM_LIMIT = Decimal("100000")
ONLINE_PLAN_LIMIT = Decimal("50000")

# Stages where an assessed balance is being collected, so the payment alternatives of
# irs_notices.md §7 apply; before assessment the choice is to agree or to dispute.
_COLLECTION_STAGES = frozenset(
    {
        "balance_due",
        "reminder",
        "annual_reminder",
        "payment_plan",
        "pre_levy_warning",
        "final_notice_intent_to_levy",
        "lien",
        "levy",
        "passport",
        "private_collection",
        "math_error_adjustment",
        "business_employer",
    }
)
_PRE_ASSESSMENT_STAGES = frozenset(
    {
        "non_filer",
        "underreporter",
        "examination",
        "deficiency",
        "tfrp",
    }
)
_DISPUTE_OPTION: dict[str, str] = {
    "balance_due": "If you think the bill is wrong, call the number on the letter before the "
    "due date and ask for a correction",
    "reminder": "If you think the balance is wrong or already paid, call the number on the "
    "letter before the due date",
    "annual_reminder": "If you think the balance is wrong or already paid, call the number on "
    "the letter",
    "non_filer": "If you already filed or are not required to file, say so on the response "
    "form by the deadline",
    "underreporter": "If you disagree, reply by the deadline with your explanation and "
    "documents; you may ask for an Appeals conference",
    "examination": "If you disagree, send your documents or a written protest by the deadline; "
    "you may ask for an Appeals conference",
    "deficiency": "If you disagree, petition the U.S. Tax Court by the deadline: you do not "
    "have to pay first, and the deadline cannot be extended",
}
_SECTION7 = "irs_notices.md §7"


@dataclass(frozen=True)
class _Dated:
    """A computed or printed date and the basis text that justifies it."""

    date: date | None
    basis: str


def _cite(catalog: Catalog, keys: Iterable[str], limit: int = 2) -> str:
    """Source keys for a basis: primary sources first; a secondary one is marked [S]."""
    known = [k for k in dict.fromkeys(keys) if k in catalog.sources]
    primary = [k for k in known if not catalog.is_secondary(k)]
    chosen = primary[:limit] or [f"{k} [S]" for k in known[:limit]]
    return ", ".join(chosen)


def _from_notice(
    notice_date: date | None,
    days: int,
    rule: str,
    cite: str,
    *,
    after_business_days: int = 0,
) -> _Dated:
    """`days` calendar days from the notice date (after `after_business_days` business days),
    rolled under IRC 7503; undated, with the rule still stated, when the notice date is unread."""
    counted = f"{days} days from notice date"
    if after_business_days:
        counted = f"{after_business_days} business days then {days} days from notice date"
    basis = f"catalog: {rule}, {counted} ({cite})"
    if notice_date is None:
        return _Dated(None, basis + "; notice date not read, so no date")
    start = add_business_days(notice_date, after_business_days)
    due, moved = _roll(start + timedelta(days=days))
    return _Dated(due, basis + moved)


def _one_year(
    notice_date: date | None, rule: str, cite: str, *, after_business_days: int = 0
) -> _Dated:
    """The one-year equivalent-hearing window, rolled under IRC 7503."""
    counted = "one year from notice date"
    if after_business_days:
        counted = f"one year after the {after_business_days} business days from notice date"
    basis = f"catalog: {rule}, {counted} ({cite})"
    if notice_date is None:
        return _Dated(None, basis + "; notice date not read, so no date")
    due, moved = _roll(add_years(add_business_days(notice_date, after_business_days), 1))
    return _Dated(due, basis + moved)


# ---------------------------------------------------------------------------------------------
# The letter's own deadline and the rights it carries
# ---------------------------------------------------------------------------------------------


def _response_window(
    entry: NoticeEntry, catalog: Catalog, notice_date: date | None, foreign: bool
) -> _Dated | None:
    """The catalog's response window for this letter, or None when it gives none."""
    cite = _cite(catalog, entry.sources)
    if entry.response_purpose == "request_hearing" and entry.stage == "lien":
        return _lien_cdp(entry, catalog, notice_date)
    if entry.response_days is None:
        return None
    days, rule = entry.response_days, entry.code
    if foreign and entry.stage in _ABROAD_DAYS:
        days, law = _ABROAD_DAYS[entry.stage]
        rule = f"{entry.code}, address outside the United States ({law})"
    return _from_notice(notice_date, days, rule, cite)


def _lien_cdp(entry: NoticeEntry, catalog: Catalog, notice_date: date | None) -> _Dated:
    """Lien CDP window: 5 business days, then 30 days (IRC 6320).

    The law counts from the lien filing date, which letters rarely print and we do not read;
    the letter date stands in for it, so the basis says the printed date governs.
    """
    dated = _from_notice(
        notice_date,
        CDP_DAYS,
        f"{entry.code}, CDP hearing on a lien (IRC 6320)",
        _cite(catalog, ("tas-3172", "pub1660")),
        after_business_days=LIEN_NOTICE_BUSINESS_DAYS,
    )
    note = "; counted from the letter date as the lien filing date is not read: the date "
    return _Dated(dated.date, dated.basis + note + "printed on the letter governs")


def _deadline(
    fields: Fields, entry: NoticeEntry | None, catalog: Catalog, foreign: bool
) -> TimelineStep | None:
    printed = fields.response_date.value
    purpose = entry.response_purpose if entry else None
    action = PURPOSE_ACTION.get(purpose or "", "Respond by the date printed on the letter")
    if printed is not None:
        return TimelineStep(date=printed, action=action, kind="deadline", basis=PRINTED)
    if entry is None or purpose == "none":
        return None
    window = _response_window(entry, catalog, fields.notice_date.value, foreign)
    if window is None:
        basis = (
            f"catalog: {entry.code} gives no fixed window; use the date on the letter "
            f"({_cite(catalog, entry.sources)})"
        )
        return TimelineStep(action=action, kind="deadline", basis=basis)
    return TimelineStep(date=window.date, action=action, kind="deadline", basis=window.basis)


def _right_step(
    right: str,
    entry: NoticeEntry,
    fields: Fields,
    catalog: Catalog,
    foreign: bool,
) -> TimelineStep:
    """One right the letter carries, dated by its statutory window.

    The date printed on the letter wins for the right the letter's own deadline is about (the
    CP3219A's "last day to petition", an LT11's hearing date); other rights are computed.
    """
    nd = fields.notice_date.value
    printed = fields.response_date.value
    own_deadline = _PURPOSE_RIGHT.get(entry.response_purpose) == right
    lien = entry.stage == "lien"
    code = entry.code

    if right == "cdp_hearing":
        action = "Last day to request a Collection Due Process hearing (Form 12153)"
        if entry.stage == "levy":
            action = "Last day to request a post-levy Collection Due Process hearing (Form 12153)"
        if own_deadline and printed is not None:
            return TimelineStep(date=printed, action=action, kind="right", basis=PRINTED)
        if lien:
            dated = _lien_cdp(entry, catalog, nd)
        else:
            dated = _from_notice(
                nd, CDP_DAYS, f"{code}, CDP hearing (IRC 6330)", _cite(catalog, ["pub1660"])
            )
        return TimelineStep(date=dated.date, action=action, kind="right", basis=dated.basis)

    if right == "equivalent_hearing":
        action = "Last day to request an equivalent hearing (Form 12153; no Tax Court review)"
        if lien:
            dated = _one_year(
                nd,
                f"{code}, equivalent hearing (Treas. Reg. 301.6320-1(i))",
                _cite(catalog, ("pub1660", "tas-3172")),
                after_business_days=LIEN_NOTICE_BUSINESS_DAYS,
            )
        else:
            dated = _one_year(
                nd,
                f"{code}, equivalent hearing (Treas. Reg. 301.6330-1(i))",
                _cite(catalog, ["pub1660"]),
            )
        return TimelineStep(date=dated.date, action=action, kind="right", basis=dated.basis)

    if right == "tax_court":
        if entry.stage != "deficiency":
            # On a CDP notice the Tax Court reviews Appeals' determination, not this letter.
            return TimelineStep(
                action="After a timely CDP hearing you may petition the U.S. Tax Court within "
                "30 days of Appeals' determination letter",
                kind="right",
                basis=f"catalog: {code}, Tax Court review of a CDP determination (IRC 6330(d)), "
                f"30 days from the determination letter ({_cite(catalog, ['pub1660'])})",
            )
        action = "Last day to petition the U.S. Tax Court (no need to pay first)"
        if own_deadline and printed is not None:
            return TimelineStep(date=printed, action=action, kind="right", basis=PRINTED)
        days, law = (
            (TAX_COURT_DAYS_ABROAD, "IRC 6213(a), address outside the United States")
            if foreign
            else (TAX_COURT_DAYS, "IRC 6213(a)")
        )
        dated = _from_notice(
            nd, days, f"{code}, Tax Court petition ({law})", _cite(catalog, entry.sources)
        )
        return TimelineStep(date=dated.date, action=action, kind="right", basis=dated.basis)

    if right == "abatement_request":
        days = entry.dispute_days or MATH_ERROR_DAYS
        dated = _from_notice(
            nd, days, f"{code}, math-error abatement (IRC 6213(b))", _cite(catalog, entry.sources)
        )
        return TimelineStep(
            date=dated.date,
            action="Last day to ask in writing for the math-error change to be reversed",
            kind="right",
            basis=dated.basis,
        )

    if right == "appeals":
        action = "Protest, or ask for a conference with the Independent Office of Appeals"
        if own_deadline:
            if printed is not None:
                return TimelineStep(date=printed, action=action, kind="right", basis=PRINTED)
            window = _response_window(entry, catalog, nd, foreign)
            if window is not None:
                return TimelineStep(
                    date=window.date, action=action, kind="right", basis=window.basis
                )
        return TimelineStep(
            action=action + " before the IRS acts",
            kind="right",
            basis=f"catalog: {code}, Appeals, no fixed date ({_cite(catalog, entry.sources)})",
        )

    if right == "cap":
        return TimelineStep(
            action="Appeal the collection action through the Collection Appeals Program "
            "(Form 9423) before the IRS acts",
            kind="right",
            basis=f"catalog: {code}, Collection Appeals Program, no fixed date: before the IRS "
            f"acts ({_cite(catalog, ['pub1660', *entry.sources])})",
        )

    if right == "levy_release":
        return TimelineStep(
            action="Ask for the levy to be released, e.g. for economic hardship (IRC 6343)",
            kind="right",
            basis=f"catalog: {code}, levy release, any time while the levy is in force "
            f"({_cite(catalog, entry.sources)})",
        )

    raise ValueError(f"{code}: right {right!r} has no timeline rule")  # catalog.Right grew


# ---------------------------------------------------------------------------------------------
# What happens next, and the choices that fit the stage
# ---------------------------------------------------------------------------------------------


def _expected(
    entry: NoticeEntry, catalog: Catalog, notice_date: date | None
) -> TimelineStep | None:
    if not entry.next_notice:
        return None
    nxt = catalog.get(entry.next_notice)
    title = f": {nxt.title}" if nxt else ""
    action = f"If nothing is done, expect {entry.next_notice}{title}"
    basis = f"catalog: usual next notice after {entry.code}"
    when = None
    if entry.next_lag_days:
        lag_keys = [entry.next_lag_source] if entry.next_lag_source else entry.sources
        lag_cite = _cite(catalog, lag_keys)
        basis += (
            f", about {entry.next_lag_days} days after the notice date, approximate ({lag_cite})"
        )
        if notice_date is not None:
            when = notice_date + timedelta(days=entry.next_lag_days)
        else:
            basis += "; notice date not read, so no date"
    else:
        basis += f", timing not known ({_cite(catalog, entry.sources)})"
    return TimelineStep(date=when, action=action, kind="expected", basis=basis)


def _payment_options(entry: NoticeEntry, amount: Decimal | None) -> list[TimelineStep]:
    """Payment alternatives of irs_notices.md §7, narrowed by the amount due when it is known."""
    steps: list[TimelineStep] = []

    def add(action: str, rule: str) -> None:
        steps.append(
            TimelineStep(action=action, kind="option", basis=f"catalog: {rule} ({_SECTION7})")
        )

    if entry.stage == "payment_plan":
        add(
            "Keep your installment agreement: make the missed or next payment by the date on "
            "the letter",
            "installment agreement in force",
        )
    add(
        "Pay in full at IRS.gov/payments (Direct Pay, EFTPS, card) or by check payable to "
        '"United States Treasury"',
        "payment alternatives, full payment",
    )
    if amount is None or amount < SHORT_TERM_LIMIT:
        add(
            "Short-term payment plan: up to 180 days to pay, if you owe less than $100,000",
            "payment alternatives, short-term plan up to 180 days under $100,000",
        )
    if amount is None:
        plan = "Installment agreement (monthly payments); apply online if you owe $50,000 or less"
    elif amount <= ONLINE_PLAN_LIMIT:
        plan = "Installment agreement (monthly payments); you can apply online"
    else:
        plan = "Installment agreement (monthly payments); online only up to $50,000 owed"
    add(plan, "payment alternatives, installment agreement, online up to $50,000")
    add(
        "Offer in compromise (Form 656) if you cannot pay the full amount",
        "payment alternatives, offer in compromise (IRC 7122)",
    )
    add(
        "Ask for currently-not-collectible status if paying would leave you unable to meet "
        "basic living expenses (penalties and interest continue)",
        "payment alternatives, currently not collectible",
    )
    return steps


def _options(entry: NoticeEntry, fields: Fields, catalog: Catalog) -> list[TimelineStep]:
    steps: list[TimelineStep] = []
    credit = fields.amount_due.value is not None and fields.amount_due.value < 0
    if entry.requests_payment and entry.stage in _COLLECTION_STAGES and not credit:
        # a letter whose amount due is a credit ("-$408.64") owes nothing: no ways to pay it
        steps += _payment_options(entry, fields.amount_due.value)
    elif entry.requests_payment and entry.stage in _PRE_ASSESSMENT_STAGES:
        steps.append(
            TimelineStep(
                action="If you agree, sign and return the response form by the deadline; you can "
                "pay now, or choose a payment plan once the tax is billed",
                kind="option",
                basis=f"catalog: {entry.code}, {entry.stage.replace('_', ' ')}: agree or dispute "
                f"({_SECTION7})",
            )
        )
    dispute = _DISPUTE_OPTION.get(entry.stage)
    if dispute and entry.response_purpose != "none":
        steps.append(
            TimelineStep(
                action=dispute,
                kind="option",
                basis=f"catalog: {entry.code}, {entry.stage.replace('_', ' ')}: dispute "
                f"({_cite(catalog, entry.sources)})",
            )
        )
    return steps


def _verify_steps(catalog: Catalog, *, scam: bool) -> list[TimelineStep]:
    """What to do with a letter that may not be from the IRS: check through IRS channels only."""
    irs = catalog.irs_phone(IRS_LINE)
    tigta = catalog.irs_phone(TIGTA_LINE)
    irs_cite = _cite(catalog, irs.sources if irs else ())
    tigta_cite = _cite(catalog, tigta.sources if tigta else ())
    steps: list[TimelineStep] = []
    if scam:
        steps.append(
            TimelineStep(
                action="Do not pay, and do not call the numbers or use the links in this letter",
                kind="option",
                basis="catalog: scam verdict; check only through the IRS's own channels "
                f"({irs_cite})",
            )
        )
    steps.append(
        TimelineStep(
            action=f"Verify with the IRS: call {IRS_LINE} or look at your IRS online account "
            "(IRS.gov/account), not the contact details in the letter",
            kind="option",
            basis=f"catalog: irs_phone {IRS_LINE} ({irs_cite})",
        )
    )
    steps.append(
        TimelineStep(
            action=f"Report IRS impersonation to TIGTA at {TIGTA_LINE}"
            + ("" if scam else " if the IRS has no record of this letter"),
            kind="option",
            basis=f"catalog: irs_phone {TIGTA_LINE} ({tigta_cite})",
        )
    )
    return steps


# ---------------------------------------------------------------------------------------------
# Assembly
# ---------------------------------------------------------------------------------------------


def _with_urgency(step: TimelineStep, today: date) -> TimelineStep:
    """Days left for every dated step; urgency only where the person must act by the date."""
    if step.date is None:
        return step
    left = (step.date - today).days
    urgency = None
    if step.kind in ("deadline", "right"):
        urgency = "overdue" if left < 0 else "due_within_7_days" if left <= 7 else "upcoming"
    return step.model_copy(update={"days_left": left, "urgency": urgency})


def build_timeline(
    fields: Fields,
    entry: NoticeEntry | None,
    verdict: str,
    *,
    today: date | None = None,
    foreign_address: bool = False,
) -> list[TimelineStep]:
    """Next steps for one letter: its deadline, its rights, the usual next notice, the options.

    `verdict` is the scam verdict: a scam gets only the verify/report steps (its "deadline" is
    pressure, not law); a suspicious letter gets the verify steps first. `foreign_address` is
    True when the letter is addressed outside the United States (longer statutory windows).
    """
    today = today or date.today()
    catalog = load_catalog()
    if verdict == "scam":
        return [_with_urgency(s, today) for s in _verify_steps(catalog, scam=True)]

    steps: list[TimelineStep] = []
    if verdict != "genuine" or entry is None:
        # A doubtful letter, or a code the catalog does not know (it borrows no catalog facts):
        # the person checks with the IRS before acting on anything the letter says.
        steps += _verify_steps(catalog, scam=False)
    deadline = _deadline(fields, entry, catalog, foreign_address)
    if deadline is not None:
        steps.append(deadline)
    if entry is not None:
        rights = [_right_step(r, entry, fields, catalog, foreign_address) for r in entry.rights]
        # Dated rights in date order, then the open-ended ones; sort is stable for ties.
        steps += sorted(rights, key=lambda s: (s.date is None, s.date or date.max))
        expected = _expected(entry, catalog, fields.notice_date.value)
        if expected is not None:
            steps.append(expected)
        steps += _options(entry, fields, catalog)
    return [_with_urgency(s, today) for s in steps]
