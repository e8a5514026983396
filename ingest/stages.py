"""Stage vocabulary of the notice catalog, and the one place that orders it.

The catalog (ingest/data/notices.toml) gives every notice one stage from this vocabulary; the
classifiers and the timeline compare stages only through `stage_rank`, so the IRS process order
is written down once, here, in words a reviewer can check against irs_notices.md §1.1 and §7.
"""

from __future__ import annotations

# Ordered from "nothing owed yet" to "enforcement, then what happens to an old debt". Side tracks
# sit where they usually arise: pre-assessment work (math errors, non-filers, audits, deficiency
# letters) can end in a bill, so it comes before the bill; a payment plan and the annual reminder
# come between the reminders and the levy threats; passport certification and private collection
# follow enforcement because the law only reaches them for older, larger or inactive debts.
STAGES: tuple[tuple[str, str], ...] = (
    ("information", "information only, nothing owed"),
    ("business_employer", "employer or payer obligations (deposits, backup withholding)"),
    ("identity", "identity verification or identity-theft protection"),
    ("refund", "refund held, changed, reissued or applied"),
    ("math_error_adjustment", "return corrected for a math error or adjusted"),
    ("non_filer", "no return on record: file or explain"),
    ("underreporter", "income on file does not match the return (AUR)"),
    ("examination", "audit: documents or a proposed audit result"),
    ("tfrp", "proposed trust fund recovery penalty against a responsible person"),
    ("deficiency", "statutory notice of deficiency: last chance to petition the Tax Court"),
    ("balance_due", "first bill: notice and demand for payment"),
    ("reminder", "reminder that a bill is still unpaid"),
    ("annual_reminder", "yearly reminder of a debt still owed"),
    ("payment_plan", "about an installment agreement"),
    ("pre_levy_warning", "intent to levy without a hearing right (appeal through CAP)"),
    ("final_notice_intent_to_levy", "final notice of intent to levy, with a CDP hearing right"),
    ("lien", "notice of federal tax lien filing, with a CDP hearing right"),
    ("levy", "levy issued or property seized"),
    ("passport", "passport certification for seriously delinquent tax debt"),
    ("private_collection", "account assigned to a private collection agency"),
)

STAGE_NAMES: frozenset[str] = frozenset(name for name, _ in STAGES)
STAGE_LABELS: dict[str, str] = dict(STAGES)

_RANK: dict[str, int] = {name: i for i, (name, _) in enumerate(STAGES)}


def stage_rank(stage: str) -> int:
    """Position of `stage` in the collection process: a higher rank is further escalated.

    Raises KeyError for a stage outside the vocabulary, so a typo in the catalog or a caller
    fails loudly instead of sorting as "earliest".
    """
    try:
        return _RANK[stage]
    except KeyError:
        raise KeyError(f"unknown stage {stage!r}; known: {', '.join(_RANK)}") from None


def stage_label(stage: str) -> str:
    """Plain-words description of a stage, for people reading a record or a report."""
    stage_rank(stage)
    return STAGE_LABELS[stage]
