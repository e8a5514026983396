"""Dated next steps from the printed deadline and the catalog's rules, each with its basis.

This first version counts calendar days and rolls a deadline off a weekend; legal holidays
(IRC 7503) and urgency against --today come with the timeline issue.
"""

from __future__ import annotations

from datetime import date, timedelta

from .catalog import NoticeEntry
from .record import Fields, TimelineStep

RIGHTS = {
    "cdp_hearing": (30, "Request a Collection Due Process hearing (Form 12153)", "IRC 6320/6330"),
    "tax_court": (90, "Last day to petition the U.S. Tax Court", "IRC 6213"),
    "equivalent_hearing": (365, "Last day to request an equivalent hearing", "Treas. Reg. 301.6330-1(i)"),
    "cap": (None, "Ask for a Collection Appeals Program review before the IRS acts", "Pub 1660"),
    "appeals": (None, "You may ask for an Appeals conference", "Pub 5"),
    "abatement_request": (60, "Last day to ask for a math-error abatement", "IRC 6213(b)"),
}

PURPOSE = {
    "pay": "Pay the amount due",
    "respond": "Respond to the letter",
    "contact": "Contact the IRS",
    "request_hearing": "Request a hearing",
    "petition": "Petition the Tax Court",
    "file_return": "File the missing return or explain",
    "verify_identity": "Verify your identity",
}

OPTIONS_BY_STAGE = {
    "payment": [
        "Pay in full (IRS.gov/payments, Direct Pay, EFTPS, or a check to the United States Treasury)",
        "Short-term payment plan (up to 180 days) if you owe under $100,000",
        "Installment agreement (online if you owe $50,000 or less)",
        "Offer in compromise if you cannot pay the full amount",
        "Ask for currently-not-collectible status if paying would cause hardship",
    ],
    "dispute": ["Dispute or appeal the amount in writing before the deadline"],
}
_PAYMENT_STAGES = {
    "balance_due", "reminder", "pre_levy_warning", "final_notice_intent_to_levy", "lien", "levy",
    "payment_plan", "annual_reminder", "math_error_adjustment", "business_employer",
}


def roll_weekend(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def build_timeline(
    fields: Fields, entry: NoticeEntry | None, verdict: str, *, today: date | None = None
) -> list[TimelineStep]:
    if verdict == "scam":
        return [
            TimelineStep(
                action="Do not pay or call the numbers in this letter; verify at 800-829-1040 or "
                "your IRS online account and report it to TIGTA (800-366-4484)",
                kind="option",
                basis="scam check",
            )
        ]
    steps: list[TimelineStep] = []
    notice_date = fields.notice_date.value
    purpose = PURPOSE.get(entry.response_purpose, "Respond") if entry else "Respond to the letter"
    if fields.response_date.value is not None:
        steps.append(
            TimelineStep(
                date=fields.response_date.value, action=purpose, kind="deadline",
                basis="printed on the letter",
            )
        )
    elif entry is not None and entry.response_days and notice_date is not None:
        due = roll_weekend(notice_date + timedelta(days=entry.response_days))
        steps.append(
            TimelineStep(
                date=due, action=purpose, kind="deadline",
                basis=f"catalog: {entry.code}, {entry.response_days} days from notice date "
                f"({', '.join(entry.sources[:2])})",
            )
        )
    if entry is None:
        return steps
    for right in entry.rights:
        days, action, law = RIGHTS.get(right, (None, right, ""))
        when = roll_weekend(notice_date + timedelta(days=days)) if days and notice_date else None
        basis = f"catalog: {law}" + (f", {days} days from notice date" if days else "")
        steps.append(TimelineStep(date=when, action=action, kind="right", basis=basis))
    if entry.next_notice:
        when = None
        if notice_date and entry.next_lag_days:
            when = notice_date + timedelta(days=entry.next_lag_days)
        steps.append(
            TimelineStep(
                date=when, action=f"If ignored, expect {entry.next_notice}", kind="expected",
                basis=f"catalog: usual next notice after {entry.code}"
                + (f", about {entry.next_lag_days} days later" if entry.next_lag_days else ""),
            )
        )
    if entry.stage in _PAYMENT_STAGES and fields.amount_due.value is not None:
        for opt in OPTIONS_BY_STAGE["payment"]:
            steps.append(TimelineStep(action=opt, kind="option", basis="catalog: payment options"))
    if entry.rights or entry.stage in ("underreporter", "examination", "deficiency"):
        steps += [
            TimelineStep(action=o, kind="option", basis="catalog: rights on this notice")
            for o in OPTIONS_BY_STAGE["dispute"]
        ]
    return steps
