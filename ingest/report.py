"""Plain-words summary of a record for a person at a terminal."""

from __future__ import annotations

from classifiers.scam import UNCERTAIN_NOTE

from .record import CaseRecord

VERDICT_WORDS = {
    "genuine": "looks genuine",
    "suspicious": "SUSPICIOUS - verify before acting",
    "scam": "LIKELY A SCAM - do not pay or call the numbers in it",
}


def summary(record: CaseRecord) -> str:
    f = record.fields
    out: list[str] = []
    name = record.source.path or record.id[:12]
    if record.status == "failed":
        err = record.errors[0] if record.errors else None
        return f"{name}: could not be read: {err.message if err else 'unknown error'}"
    title = record.notice.title or "unknown notice"
    out.append(f"{name}")
    out.append(f"  Letter:     {record.notice.code or '?'} - {title}")
    if record.notice.stage:
        out.append(f"  Stage:      {record.notice.stage.replace('_', ' ')}")
    out.append(f"  Dated:      {f.notice_date.value or 'not found'}")
    if f.tax_years.value:
        out.append(f"  Tax years:  {', '.join(str(y) for y in f.tax_years.value)}")
    amount = f.amount_due.value
    out.append(
        f"  Amount due: {'$' + format(amount, ',.2f') if amount is not None else 'none stated'}"
    )
    out.append(f"  Respond by: {f.response_date.value or 'no date printed'}")
    if f.taxpayer_name.value:
        last4 = (
            f" (SSN/EIN ending {f.taxpayer_id_last4.value})" if f.taxpayer_id_last4.value else ""
        )
        out.append(f"  For:        {f.taxpayer_name.value}{last4}")
    if f.irs_phone.value:
        out.append(f"  Phone:      {f.irs_phone.value}")
    out.append(
        f"  Scam check: {VERDICT_WORDS[record.scam.verdict]} (score {record.scam.score:.2f})"
    )
    for s in record.scam.signals[:5]:
        sign = "+" if s.weight > 0 else "-"
        # A marker read from a damaged part of the scan: its caveat reads after the evidence.
        message, doubtful, _ = s.message.partition(UNCERTAIN_NOTE)
        message = message.rstrip(".")
        note = UNCERTAIN_NOTE if doubtful else ""
        out.append(f"    {sign} {message}" + (f': "{s.evidence}"' if s.evidence else "") + note)
    if record.scam.verdict != "genuine":
        out.append(
            "    What to do: verify by calling the IRS at 800-829-1040 or in your IRS online "
            "account; report impersonation to TIGTA (800-366-4484)."
        )
    if record.timeline:
        out.append("  Next steps:")
        for step in record.timeline:
            when = f"{step.date}  " if step.date else ""
            left = step.days_left
            if step.urgency is None or left is None:
                due = ""
            elif step.urgency == "overdue":
                due = f"  (OVERDUE by {-left} day{'s' if left != -1 else ''})"
            elif left == 0:
                due = "  (DUE TODAY)"
            elif step.urgency == "due_within_7_days":
                due = f"  (DUE IN {left} DAY{'S' if left != 1 else ''})"
            else:
                due = f"  ({left} days left)"
            out.append(f"    - {when}{step.action}{due}  [{step.basis}]")
    if record.review.needed:
        out.append("  Needs review: " + "; ".join(record.review.reasons))
    for err in record.errors:
        out.append(f"  Warning: {err.message}" + (f" (page {err.page})" if err.page else ""))
    return "\n".join(out)
