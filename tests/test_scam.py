"""Scam-versus-genuine classifier: real scams, real IRS samples, negation, OCR noise, evidence."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from classifiers import scam
from classifiers.scam import SCAM_AT, SUSPICIOUS_AT, assess, looks_like_irs_letter
from ingest.record import Scam

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REALTEXT = SHARED / "realtext"
REAL_FILES = sorted(REALTEXT.glob("*.txt")) if REALTEXT.is_dir() else []
SCAM_FILES = [p for p in REAL_FILES if p.name.startswith("scam_")]
IRS_FILES = [p for p in REAL_FILES if p.name.startswith("irs_")]

# Real scams whose text carries no payment demand and no threat (a refund lure, a robocall
# transcript, a refund email). The design goal is recall 1.0 at "flagged"; these must be at least
# "suspicious". Today all of them reach "scam" on their lure markers (link to click, email/text
# wording, refund bait, robocall script), and the per-file expectations below pin that.
NO_DEMAND = {
    "scam_fake_irs_cp49_style_refund_notice_FTC-2024-01.txt",
    "scam_ftc_robocall_irs_settlement_transcript.txt",
    "scam_irs_claim_refund_online_email_IR-2023-131.txt",
    "scam_irs_covid_treas_fund_text_2020-167.txt",
    "scam_irs_eip_refund_email_IR-2023-131.txt",
    "scam_irs_fix_it_text_IR-2023-131.txt",
    "scam_irs_unclaimed_refund_letter_IR-2023-123.txt",
}
# The signal code each real scam must raise (the marker a clerk would be shown first or second).
EXPECTED_CODE = {
    "scam_fake_irs_cp49_style_refund_notice_FTC-2024-01.txt": "link_to_click",
    "scam_fake_maryland_court_hearing_notice_FTC-2026-04.txt": "qr_payment",
    "scam_ftc_robocall_irs_settlement_transcript.txt": "phone_script",
    "scam_irs_claim_refund_online_email_IR-2023-131.txt": "link_to_click",
    "scam_irs_covid_treas_fund_text_2020-167.txt": "fake_agency",
    "scam_irs_eip_refund_email_IR-2023-131.txt": "email_or_text_delivery",
    "scam_irs_fix_it_text_IR-2023-131.txt": "link_to_click",
    "scam_irs_unclaimed_refund_letter_IR-2023-123.txt": "asks_id_document",
    "scam_lien_letters_transcribed_mickeygray.txt": "fake_agency",
}
# Positive weight a genuine IRS sample may still carry (weak hints only).
SMALL_WEIGHT = 1.0


def _catalog_or_skip() -> None:
    try:
        import ingest.catalog  # noqa: F401
    except ImportError:
        pytest.skip("ingest.catalog is not importable yet: phone and collector checks need it")
    if scam._catalog_api() is None:
        pytest.skip("ingest.catalog has no is_irs_phone/pca_by_name yet")


def body(path: Path) -> str:
    """The verbatim letter text: the '#' header ends at the line starting with '# ----'."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("# ----"):
            return "\n".join(lines[i + 1 :])
    return "\n".join(lines)


def codes(result: Scam) -> set[str]:
    return {s.code for s in result.signals}


def positive(result: Scam) -> set[str]:
    return {s.code for s in result.signals if s.weight > 0}


def _need_realtext() -> None:
    if not REAL_FILES:
        pytest.skip(f"{REALTEXT} is absent: the real texts in ../shared are not here")


# --------------------------------------------------------------------------------------------
# Real texts
# --------------------------------------------------------------------------------------------


def test_realtext_present_and_complete() -> None:
    _need_realtext()
    assert {p.name for p in SCAM_FILES} == set(EXPECTED_CODE)
    assert len(IRS_FILES) >= 12


@pytest.mark.parametrize("path", SCAM_FILES, ids=lambda p: p.name)
def test_every_real_scam_is_flagged(path: Path) -> None:
    result = assess(body(path))
    assert result.verdict == "scam", (result.score, [(s.code, s.weight) for s in result.signals])
    assert result.score >= SCAM_AT
    assert EXPECTED_CODE[path.name] in positive(result)
    if path.name in NO_DEMAND:
        assert result.score >= SUSPICIOUS_AT  # the floor the design goal asks for


def test_each_lien_mailer_variant_is_a_scam_on_its_own() -> None:
    _need_realtext()
    text = body(REALTEXT / "scam_lien_letters_transcribed_mickeygray.txt")
    variants = [v for v in re.split(r"(?m)^-{3,}\s*$", text) if v.strip()]
    assert len(variants) == 5
    for variant in variants:
        result = assess(variant)
        assert result.verdict == "scam", (variant[:60], [s.code for s in result.signals])
    # "This isn't an arrest warrant." / "This is not a warrant." are denials, not threats...
    assert "threat_arrest" not in codes(assess(variants[2]))
    # ...but the same variant's "Distraint Warrant" and "warrant has been issued" are.
    assert "threat_warrant" in codes(assess(variants[2]))
    assert "threat_warrant" in codes(assess(variants[3]))  # "Notice of Warranted Lien"
    assert "threat_licence" in codes(assess(variants[1]))  # "...along with your driver's license"


@pytest.mark.parametrize("path", IRS_FILES, ids=lambda p: p.name)
def test_genuine_irs_samples_are_genuine(path: Path) -> None:
    result = assess(body(path))
    assert result.verdict == "genuine", [(s.code, s.weight, s.evidence) for s in result.signals]
    assert result.score < SUSPICIOUS_AT
    strong = [(s.code, s.weight) for s in result.signals if s.weight > SMALL_WEIGHT]
    assert strong == []
    if scam._catalog_api() is not None:  # the blank CP13 sample's only marker is its phone
        assert any(s.weight < 0 for s in result.signals)


@pytest.mark.parametrize("path", IRS_FILES, ids=lambda p: p.name)
def test_genuine_samples_with_known_code_stay_genuine(path: Path) -> None:
    code = path.name.split("_")[1].upper()  # irs_cp71c_sample.txt -> CP71C
    result = assess(body(path), notice_code=code, notice_known=True, amount_due=Decimal("10"))
    assert result.verdict == "genuine"
    assert "notice_code_known" in codes(result)


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_evidence_is_short_and_masks_ids(path: Path) -> None:
    for signal in assess(body(path)).signals:
        assert signal.message and signal.message[0].isupper()
        if signal.evidence is not None:
            assert 0 < len(signal.evidence) <= scam.EVIDENCE_MAX
            assert not re.search(r"\d{3}-\d{2}-\d{4}", signal.evidence)


def test_irs_samples_look_like_irs_letters() -> None:
    _need_realtext()
    assert all(looks_like_irs_letter(body(p)) for p in IRS_FILES)


# --------------------------------------------------------------------------------------------
# Negation and context
# --------------------------------------------------------------------------------------------

GENUINE_HEADER = """Department of the Treasury
Internal Revenue Service
P.O. Box 9019
Holtsville, NY 11742-9019
Notice CP14
Tax year 2023
Notice date March 4, 2024
Social security number XXX-XX-1234
"""


@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        ("The IRS will never ask you to pay with gift cards.", "pay_gift_card"),
        ("We won't ask for your bank PIN.", "asks_pin"),
        (
            "A private collection agency will never ask for payment by prepaid card.",
            "pay_prepaid_card",
        ),
        (
            "The IRS and its authorized private collection agencies will never ask a taxpayer to "
            "pay using any form of pre-paid card, store or online gift card.",
            "pay_gift_card",
        ),
        (
            "The IRS does not accept iTunes cards, Bitcoin or payment by Western Union.",
            "pay_gift_card",
        ),
        (
            "The IRS does not accept iTunes cards, Bitcoin or payment by Western Union.",
            "pay_wire_transfer",
        ),
        (
            "We will not call to threaten you with arrest or to revoke your driver's license.",
            "threat_arrest",
        ),
        (
            "We will not call to threaten you with arrest or to revoke your driver's license.",
            "threat_licence",
        ),
        ("This is not a warrant.", "threat_warrant"),
        ("No one from the IRS will ask for your online banking password.", "asks_bank_login"),
        (
            "Don't send cash. Never make your check payable to the collection agency.",
            "payee_not_treasury",
        ),
        ("Scammers may demand payment with Google Play gift cards or Zelle.", "pay_gift_card"),
        ("Scammers may demand payment with Google Play gift cards or Zelle.", "pay_app"),
        (
            "The IRS will never email you and ask you to click the link to verify your account.",
            "link_to_click",
        ),
        (
            "You do not need to respond within 24 hours; you have until the date above.",
            "deadline_hours",
        ),
    ],
)
def test_denials_and_warnings_do_not_fire(sentence: str, code: str) -> None:
    result = assess(GENUINE_HEADER + sentence)
    assert code not in codes(result), result.signals
    assert result.verdict == "genuine"


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "If you do not call us within 24 hours, a warrant will be issued for your arrest.",
            {"deadline_hours", "threat_warrant", "threat_arrest"},
        ),
        (
            "We have not received your payment and an arrest warrant has been issued.",
            {"threat_warrant"},
        ),
        ("Do not ignore this notice. Pay with Google Play gift cards.", {"pay_gift_card"}),
        (
            "You did not respond to prior notices, so police will come to your home.",
            {"threat_arrest"},
        ),
        ("Do not contact your lawyer or tax preparer about this matter.", {"do_not_contact"}),
        ("Don't worry, we'll help you. Send the payment by Bitcoin ATM today.", {"pay_crypto"}),
        ("We don't want to have to send the police to your home.", {"threat_arrest"}),
        ("You will not be able to avoid arrest unless you pay today.", {"threat_arrest"}),
        ("We will not hesitate to issue a warrant for your arrest.", {"threat_warrant"}),
    ],
)
def test_negators_that_do_not_deny_still_fire(sentence: str, expected: set[str]) -> None:
    result = assess(sentence)
    assert expected <= codes(result), result.signals
    assert result.verdict in {"suspicious", "scam"}


FINAL_NOTICE = """Department of the Treasury
Internal Revenue Service
ACS Support - Stop 5050
P.O. Box 219236
Kansas City, MO 64121-9236
Letter LT11
Tax periods: December 31, 2021
Social security number: XXX-XX-1234
Notice date: May 1, 2024
Notice of intent to levy and notice of your right to a hearing
Amount due immediately: $12,345.67
We intend to seize (levy) your property or rights to property. You have the right to a Collection
Due Process hearing: complete Form 12153 by May 31, 2024. See Publication 1660 and Publication 594.
If you don't pay or call us within 30 days, we can levy your wages and bank accounts.
Denial or revocation of United States passport: if you owe more than $62,000, we may certify your
debt to the State Department, which may deny your passport application and may revoke your
current passport.
Be alert for scams. The IRS will never call you to demand immediate payment using a specific
payment method such as a prepaid debit card, gift card, or wire transfer. We will not threaten to
bring in local police or other law-enforcement groups to have you arrested for not paying. Don't
give out your credit or debit card numbers over the phone. No one from the IRS will ask for your
bank PIN.
Make your check payable to the United States Treasury.
"""


def test_genuine_final_notice_quoting_scam_tactics_is_genuine() -> None:
    result = assess(FINAL_NOTICE, notice_code="LT11", notice_known=True)
    assert result.verdict == "genuine", result.signals
    assert not positive(result), result.signals
    assert {"appeal_rights", "payee_treasury", "irs_campus_address"} <= codes(result)


def test_passport_certification_language_is_not_a_threat() -> None:
    cp508c = (
        GENUINE_HEADER
        + "Notice of certification of your seriously delinquent federal tax debt to the State "
        "Department. We certified your debt under IRC Section 7345. The State Department "
        "generally will not issue or renew a passport to you, and may revoke your passport."
    )
    assert "threat_passport" not in codes(assess(cp508c))
    fake = "Your passport will be revoked and you will be deported unless you pay today."
    assert {"threat_passport", "threat_deportation"} <= codes(assess(fake))


def test_crypto_named_without_payment_is_not_a_payment_demand() -> None:
    letter = GENUINE_HEADER + "Our records show you sold virtual currency such as Bitcoin in 2023."
    assert "pay_crypto" not in codes(assess(letter))


def test_card_payment_through_irs_processors_is_not_flagged() -> None:
    letter = GENUINE_HEADER + (
        "You can also pay by debit or credit card for a small fee at www.payUSAtax.com or "
        "https://fed.acipayonline.com. Pay online at www.irs.gov/payments."
    )
    result = assess(letter)
    assert not positive(result), result.signals
    assert "official_payment_channel" in codes(result)


# --------------------------------------------------------------------------------------------
# Built letters: a genuine CP40, a polished fake CP2000, OCR noise
# --------------------------------------------------------------------------------------------

CP40 = """Department of the Treasury
Internal Revenue Service
Kansas City, MO 64999-0030
Notice CP40
Tax year 2019
Notice date March 4, 2024
Social security number XXX-XX-6789
To contact us Phone 800-829-1040
Your caller ID 123456
Taxpayer authentication number 12345 67890

We assigned your overdue tax account to a private collection agency
We assigned your account to ConServe, a private collection agency that works under a contract
with the IRS. ConServe will send you a letter with your taxpayer authentication number.
ConServe, P.O. Box 307, Fairport, NY 14450, phone 844-853-4875.
The private collection agencies the IRS works with are CBE, Coast Professional, Inc. and
ConServe.
What you need to know
• A private collection agency will never ask for payment by prepaid card, gift card or wire
transfer, and will not threaten you with arrest.
• Make your check or money order payable to the United States Treasury. Never make a check
payable to the private collection agency or anyone else.
• You can pay online at www.irs.gov/payments or through EFTPS.
• You can ask the agency in writing to stop contacting you; see Publication 4518 and
Publication 1, Your Rights as a Taxpayer.
"""


def test_genuine_cp40_naming_pcas_is_genuine() -> None:
    result = assess(CP40, notice_code="CP40", notice_known=True)
    assert result.verdict == "genuine", result.signals
    assert not positive(result), result.signals
    assert {"payee_treasury", "irs_campus_address", "notice_code_known"} <= codes(result)


def test_genuine_cp40_with_catalog_names_authorised_collectors() -> None:
    _catalog_or_skip()
    result = assess(CP40, notice_code="CP40", notice_known=True)
    assert "pca_not_authorised" not in codes(result)
    assert "irs_phone" in codes(result)
    assert "phone_unknown_only" not in codes(result)


FAKE_PCA = """Federal Recovery Associates
P.O. Box 88, Dover, DE 19901
Federal Recovery Associates is a private collection agency working for the IRS.
Your tax balance of $3,412.00 must be paid now. Call our office at 302-555-0147.
"""


def test_unlisted_private_collector_is_flagged() -> None:
    _catalog_or_skip()
    result = assess(FAKE_PCA)
    assert {"pca_not_authorised", "phone_unknown_only", "notice_code_missing"} <= codes(result)
    assert result.verdict == "scam"


def test_collector_and_phone_logic_with_a_stub_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    stub = scam.CatalogAPI(
        is_irs_phone=lambda n: n == "800-555-0100",
        pca_by_name=lambda text: "Acme Collect" in text,
        is_pca_phone=lambda n: n == "888-555-0111",
    )
    monkeypatch.setattr(scam, "_catalog_api", lambda: stub)
    assert "irs_phone" in codes(assess("Call us at 1-800-555-0100 about your balance."))
    assert "phone_unknown_only" in codes(assess("Call us at (302) 555-0147 about your balance."))
    faxed = assess("Call 1-800-555-0100. Fax: 302-555-0147")
    assert codes(faxed) >= {"irs_phone"} and "phone_unknown_only" not in codes(faxed)
    collector = assess("Acme Collect is a private collection agency for the IRS. Call 888-555-0111")
    assert not {"pca_not_authorised", "phone_unknown_only"} & codes(collector)
    rogue = assess("Tax Debt Partners is a private collection agency for the IRS.")
    assert "pca_not_authorised" in codes(rogue)
    # Sample notices print placeholders: never a phone signal.
    placeholders = assess("Call us at 1-800-xxx-xxxx or XXX-XXX-XXXX or 800-829-xxxx.")
    assert not {"irs_phone", "phone_unknown_only"} & codes(placeholders)


FAKE_CP2000 = """Department of the Treasury
Internal Revenue Service
P.O. Box 1234
Austin, TX 73301-0057
Notice CP2000
Tax year 2015
Notice date June 6, 2016
Social security number XXX-XX-4321
To contact us Phone 1-800-829-0922
Your caller ID 5678
Proposed changes to your 2015 Form 1040
Proposed balance due: $2,431.00
The information we have from third parties does not match your return. If you agree, sign the
response form and pay the proposed balance due. If you disagree, you may petition the United
States Tax Court; see Publication 1660 and Publication 594.
Make your check or money order payable to I.R.S. and mail it with the voucher to the
Austin Processing Center, P.O. Box 149338, Austin, TX 78714-9338.
Letter Number: 105C
"""


def test_polished_fake_cp2000_payable_to_irs_is_a_scam() -> None:
    result = assess(
        FAKE_CP2000, notice_code="CP2000", notice_known=True, amount_due=Decimal("2431.00")
    )
    assert result.verdict == "scam", result.signals
    assert result.signals[0].code == "payee_not_treasury"  # strongest first
    assert "I.R.S." in (result.signals[0].evidence or "")
    # Its copied legitimacy markers are listed but capped: they cannot rescue it.
    assert {"irs_campus_address", "masked_taxpayer_id", "appeal_rights"} <= codes(result)


@pytest.mark.parametrize(
    ("ocr", "code"),
    [
        ("PAY NOW WlTH G00GLE PLAY G1FT CARDS", "pay_gift_card"),
        ("send pay ment by bit coin to the wallet below", "pay_crypto"),
        ("Make checks payable to IRS", "payee_not_treasury"),
        ("an arr est warrant has been issued", "threat_warrant"),
        ("BUREAU 0F TAX ENF0RCEMENT", "fake_agency"),
        ("Tax Pro-\ncessing Unit", "fake_agency"),
        ("your stimulus  check is waiting", "stimulus_wording"),
        ("respond with in 48 hours", "deadline_hours"),
        ("visit irs-refund-claims.com to verify", "web_address_not_gov"),
    ],
)
def test_ocr_noise_still_matches(ocr: str, code: str) -> None:
    assert code in codes(assess(ocr))


def test_ocr_misread_treasury_payee_is_still_the_treasury() -> None:
    for payee in ("the Unlted States Treasurv", '"United States Treasury"', "U.S. Treasury"):
        result = assess(f"Make your check or money order payable to {payee}.")
        assert "payee_not_treasury" not in codes(result), payee
    for payee in ("I.R.S.", "IRS", "the Internal Revenue Service", "John Smith"):
        result = assess(f"Make your check payable to {payee}.")
        assert "payee_not_treasury" in codes(result), payee


def test_lookalike_domains_are_not_government() -> None:
    result = assess("Check your status at http://irs.gov.refund-status.info/claim now.")
    assert "web_address_not_gov" in codes(result)
    for ok in ("www.irs.gov/payments", "https://www.eftps.gov", "www.ustaxcourt.gov", "id.me"):
        assert "web_address_not_gov" not in codes(assess(f"Go to {ok} for details.")), ok


# --------------------------------------------------------------------------------------------
# Wire and bank-account demands, refused payment methods, misnamed agency, badges
# --------------------------------------------------------------------------------------------

WIRE_DEMAND = """Department of the Treasury
Internal Revenue Service
Notice date: May 1, 2024
Amount due immediately: $8,200.00
Your balance must be cleared this week. Wire $8,200.00 to: National Tax Escrow LLC,
Routing 021000021, Account 4455667788. Call 302-555-0147 to confirm the wire.
"""


def test_wire_to_a_bank_account_is_a_scam() -> None:
    result = assess(WIRE_DEMAND, notice_code="CP504", notice_known=True)
    assert {"pay_wire_transfer", "payee_not_treasury", "pay_to_bank_account"} <= codes(result)
    assert result.verdict == "scam"
    payee = next(s for s in result.signals if s.code == "payee_not_treasury")
    assert "National Tax Escrow" in (payee.evidence or "")


@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        ("Wire the balance to the account listed below today.", "pay_wire_transfer"),
        ("Call us to confirm the wire before 4 p.m.", "pay_wire_transfer"),
        ("This debt may be paid by bank wire only.", "pay_wire_transfer"),
        ("Send a MoneyGram transfer to agent Dana Reed for the full amount.", "payee_not_treasury"),
        ("Wire your payment to: Federal Settlement Trust.", "payee_not_treasury"),
        ("Payments must be made payable to US Treasury Recovery Group.", "payee_not_treasury"),
        ("Make your check payable te Revenue Holdings.", "payee_not_treasury"),  # OCR "to"
        (
            "Send the funds to routing number 021000021 account number 99887766.",
            "pay_to_bank_account",
        ),
        ("This balance can only be settled by electronic transfer.", "one_payment_method_only"),
        (
            "Checks and money orders are no longer accepted for this account.",
            "one_payment_method_only",
        ),
        ("Personal checks will not be accepted.", "one_payment_method_only"),
        ("Payment accepted by debit card only.", "one_payment_method_only"),
        ("Internal Revenue Services, Collections Department", "agency_misnamed"),
        ("Do not contact your local IRS office; your case was transferred.", "do_not_contact"),
        ("bo not contact the nearest IRS office about this case.", "do_not_contact"),
        ("Do not discuss this matter with your attorney or bank.", "do_not_contact"),
        ("To pay online, use the secure link in the email we sent you.", "link_to_click"),
        ("Officer: Agent Lee   Badge ID: 55-1200", "badge_number"),
        ("The local sherif will be sent to your home.", "threat_arrest"),  # OCR dropped an f
        ("The county sherrif will serve the papers.", "threat_arrest"),
    ],
)
def test_new_markers_fire(sentence: str, code: str) -> None:
    assert code in codes(assess(sentence)), assess(sentence).signals


@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        # Denials and warnings in genuine letters.
        ("The IRS will never ask you to wire money or pay with a gift card.", "pay_wire_transfer"),
        ("Never wire the payment to anyone who calls you.", "payee_not_treasury"),
        (
            "We will never ask you to send funds to routing number 021000021, account 99887766.",
            "pay_to_bank_account",
        ),
        ("Scammers claim your debt can only be paid by gift card.", "one_payment_method_only"),
        ("IRS employees do not give out badge numbers over the phone.", "badge_number"),
        ("The IRS will never send you a link in an email or text.", "link_to_click"),
        # The Treasury and the IRS's own options.
        ("You can also pay by same-day wire through your bank.", "pay_wire_transfer"),
        ("Wire the payment to the United States Treasury.", "payee_not_treasury"),
        ("Make your check payable to the U.S. Treasury.", "payee_not_treasury"),
        # Your own account, not where money goes.
        (
            "We will deposit your refund into your account: routing 021000021, account 12345678.",
            "pay_to_bank_account",
        ),
        (
            "Each payment will be withdrawn from routing number 021000021, account number "
            "12345678 on the 15th.",
            "pay_to_bank_account",
        ),
        # The agency's real name, and its possessive read without the apostrophe.
        ("Internal Revenue Service, Ogden, UT 84201", "agency_misnamed"),
        ("the Internal Revenue Service's records show a balance", "agency_misnamed"),
        # Ordinary genuine wording.
        ("You don't need to contact us about this notice.", "do_not_contact"),
        ("If you don't contact us within 60 days, we will file a lien.", "do_not_contact"),
        ("Employee ID number: 1000123456", "badge_number"),
        (
            "We accept checks, money orders and payments at www.irs.gov/payments.",
            "one_payment_method_only",
        ),
    ],
)
def test_new_markers_respect_negation_and_context(sentence: str, code: str) -> None:
    assert code not in codes(assess(GENUINE_HEADER + sentence)), assess(sentence).signals


def test_payee_treasury_is_not_a_company_named_after_it() -> None:
    fake = assess("Payments must be made payable to US Treasury Recovery Group, not the Treasury.")
    assert "payee_treasury" not in codes(fake)
    assert "payee_not_treasury" in codes(fake)
    real = assess("Make your check payable to the U.S. Treasury and write your SSN on it.")
    assert "payee_treasury" in codes(real)
    assert "payee_not_treasury" not in codes(real)


CP2000_INCOME_TABLE = (
    GENUINE_HEADER
    + """Notice CP2000
Income reported to IRS but not on your return
Payer                     Form      Reported to IRS   On your return
PAYPAL INC                1099-K    4,212.09          0.00
VENMO LLC                 1099-K    1,030.00          0.00
CHIME FINANCIAL           1099-INT  12.40             0.00
Make your check or money order payable to the United States Treasury.
"""
)


def test_payment_app_named_as_income_payer_is_not_a_payment_demand() -> None:
    result = assess(CP2000_INCOME_TABLE, notice_code="CP2000", notice_known=True)
    assert "pay_app" not in codes(result), result.signals
    assert result.verdict == "genuine"
    demand = assess("Send the balance with Zelle or PayPal to the number below today.")
    assert "pay_app" in codes(demand)


def test_cp2000_voucher_with_letter_105c_is_the_known_fake() -> None:
    fake = assess("Notice CP2000\nProposed amount due: $900.00\nLetter number: 105C")
    assert "cp2000_with_105c" in codes(fake)
    genuine_105c = assess(GENUINE_HEADER + "Letter 105C\nWe disallowed your claim for refund.")
    assert "cp2000_with_105c" not in codes(genuine_105c)


def test_ocr_speck_period_does_not_split_a_denial() -> None:
    text = (
        GENUINE_HEADER + "Beware of tax scams\nThe IRS will never ask you to pay with a gift card, "
        "and we won't threaten to have you arrested by local. police. We first contact you by mail."
    )
    result = assess(text)
    assert "threat_arrest" not in codes(result), result.signals
    assert result.verdict == "genuine"


@pytest.mark.parametrize("text", ["", "   \n\f  ", "~ .:, |||| )( 0O0", "ee a : Se 2 aia"])
def test_unreadable_text_is_not_called_genuine(text: str) -> None:
    result = assess(text)
    assert "too_little_text" in codes(result)
    assert result.verdict == "suspicious"


def test_readable_letter_has_no_too_little_text_signal() -> None:
    assert "too_little_text" not in codes(assess(FINAL_NOTICE))
    # A page tesseract could barely read is not vouched for, though it has a few words.
    barely = "- i/a6/2028\n848.605. 7499 oe\nvolved; this. balance ean 1 only. be. sett\n13. Ae"
    assert "too_little_text" in codes(assess(barely))


# --------------------------------------------------------------------------------------------
# Private collectors: whose claim it is decides where the authorised name must be
# --------------------------------------------------------------------------------------------


@pytest.fixture()
def stub_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    stub = scam.CatalogAPI(
        is_irs_phone=lambda n: n in {"800-555-0100", "800-829-1040"},
        pca_by_name=lambda text: "Acme Collect" in text,
        is_pca_phone=lambda n: n == "888-555-0111",
        pca_names=("Acme Collect",),
        irs_numbers=frozenset({"8005550100", "8008291040"}),
    )
    monkeypatch.setattr(scam, "_catalog_api", lambda: stub)


@pytest.mark.usefixtures("stub_catalog")
@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        # The assignee is named right after "assigned ... to".
        (
            "The IRS has assigned your overdue federal tax account for 2019 to Federal Recovery "
            "Partners, working alongside Acme Collect.",
            True,
        ),
        ("We assigned your account to:\nAcme Collect\nP.O. Box 1, Dover, DE 19901", False),
        ("We assigned your account to:\nAcrne Collect\nP.O. Box 1, Dover, DE 19901", False),  # OCR
        # A generic assignee: the agency may be named anywhere.
        (
            "We assigned your overdue tax account to a private collection agency. "
            "Acme Collect will send you a letter.",
            False,
        ),
        # A letterhead tagline speaks for the letterhead.
        (
            "Federal Recovery Partners\nAuthorized IRS Collection Partner\nP.O. Box 88\n"
            "Dover, DE 19901\nJANE DOE\n12 ELM ST\n\n"
            "We work alongside Acme Collect on your federal tax debt.",
            True,
        ),
        (
            "Acme Collect\nAuthorized IRS Collection Partner\nDover, DE 19901\n\n"
            "Your account was placed with us by the IRS.",
            False,
        ),
    ],
)
def test_pca_claim_names_an_authorised_agency_where_it_counts(text: str, flagged: bool) -> None:
    assert ("pca_not_authorised" in codes(assess(text))) is flagged, assess(text).signals


@pytest.mark.usefixtures("stub_catalog")
def test_irs_exchange_and_ocr_misread_irs_numbers_are_not_unknown() -> None:
    for number in ("800-829-0115", "800-555-0108", "(800) 829-1046"):
        result = assess(f"Call us at {number} about your balance.")
        assert not {"irs_phone", "phone_unknown_only"} & codes(result), number
    assert "phone_unknown_only" in codes(assess("Call us at 302-555-0147 about your balance."))
    assert "irs_phone" in codes(assess("Call us at 800-829-1040 about your balance."))


# --------------------------------------------------------------------------------------------
# Notice codes, evidence, scoring
# --------------------------------------------------------------------------------------------


def test_notice_code_signals() -> None:
    unknown = assess("Notice CP9999\nAmount due: $500.00", notice_code="CP9999")
    assert "notice_code_unknown" in codes(unknown)
    missing = assess("You owe $500.00. Pay in full by Friday.")
    assert "notice_code_missing" in codes(missing)
    no_demand = assess("We received your letter and updated your address.")
    assert "notice_code_missing" not in codes(no_demand)
    other = assess("Notice CP14\nAmount due: $500.00", notice_code="CP504", notice_known=True)
    assert "notice_code_inconsistent" in codes(other)


def test_evidence_masks_full_ssn_and_stays_short() -> None:
    text = (
        "To release your refund please reply with your full social security number "
        "123-45-6789 and the card number of your debit card within 24 hours. " * 3
    )
    result = assess(text)
    assert {"asks_full_ssn", "asks_card_number", "deadline_hours"} <= codes(result)
    for signal in result.signals:
        assert signal.evidence is None or len(signal.evidence) <= scam.EVIDENCE_MAX
        assert "123-45" not in (signal.evidence or "")
    ssn = next(s for s in result.signals if s.code == "asks_full_ssn")
    assert "full social security number ***-**-6789" in (ssn.evidence or "")


def test_signals_sorted_strongest_first_and_score_matches_constants() -> None:
    result = assess(
        "Pay with iTunes gift cards within 24 hours or the sheriff will arrest you. "
        + GENUINE_HEADER
    )
    weights = [s.weight for s in result.signals]
    scam_w = [w for w in weights if w > 0]
    legit_w = [w for w in weights if w < 0]
    assert weights == scam_w + legit_w
    assert scam_w == sorted(scam_w, reverse=True)
    assert legit_w == sorted(legit_w)
    assert result.score == pytest.approx(scam.score_of(result.signals), abs=1e-4)
    assert result.verdict == "scam"
    assert 0.0 <= result.score <= 1.0


def test_thresholds_are_ordered() -> None:
    assert 0 < SUSPICIOUS_AT < SCAM_AT < 1
    assert scam.verdict_of(SUSPICIOUS_AT - 1e-9) == "genuine"
    assert scam.verdict_of(SUSPICIOUS_AT) == "suspicious"
    assert scam.verdict_of(SCAM_AT) == "scam"


def test_one_weak_hint_alone_is_only_suspicious() -> None:
    result = assess(
        "We reviewed the account shown above and applied your last payment. "
        "You owe $500.00. Pay in full by Friday to avoid more interest. We charge interest "
        "and penalties on the unpaid amount until it is paid. If you already paid, keep "
        "your records and disregard this letter."
    )
    assert positive(result) == {"notice_code_missing"}
    assert result.verdict == "suspicious"


def test_pages_joined_with_form_feed() -> None:
    pages = [GENUINE_HEADER, "Make your check payable to the United States Treasury."]
    result = assess("\n\f".join(pages))
    assert result.verdict == "genuine"
    assert "payee_treasury" in codes(result)


def test_every_rule_in_the_lexicon_loads_with_a_message() -> None:
    lex = scam._lexicon()
    rule_codes = [r.code for r in lex.rules]
    assert len(rule_codes) == len(set(rule_codes))
    assert not set(rule_codes) & set(lex.computed)
    for rule in lex.rules:
        assert rule.message and rule.weight != 0 and rule.regex.pattern, rule.code


# --------------------------------------------------------------------------------------------
# looks_like_irs_letter
# --------------------------------------------------------------------------------------------

BANK_STATEMENT = """First Community Bank  Member FDIC
Checking Account Statement
Statement Period: 02/01/2024 - 02/29/2024
Account number ****4821   Routing number 021000021
Beginning Balance $2,310.44
Deposits and Other Credits $3,100.00
Withdrawals and Other Debits $2,874.12
02/15 ACH DEBIT IRS USATAXPYMT 220455 $412.00
Ending Balance $2,536.32
"""

STATE_NOTICE = """STATE OF CALIFORNIA
FRANCHISE TAX BOARD
PO BOX 942840 SACRAMENTO CA 94240-0040
Notice of Proposed Assessment
Taxable year 2022
We received information from the Internal Revenue Service (IRS) that changes your federal
Form 1040. We adjusted your California Form 540 accordingly.
Amount due: $612.00
"""

RANDOM_OCR = """~ .:, Ilii  sunset beach 2019 ||| love you mom
EXIT 12 >> SPEED LIMIT 55 rn 0O0 )(
"""


def test_looks_like_irs_letter() -> None:
    assert looks_like_irs_letter(GENUINE_HEADER + "You have a balance due. www.irs.gov/payments")
    assert looks_like_irs_letter(CP40)
    assert looks_like_irs_letter(FAKE_CP2000)  # a good fake does look like one
    assert not looks_like_irs_letter(BANK_STATEMENT)
    assert not looks_like_irs_letter(STATE_NOTICE)
    assert not looks_like_irs_letter(RANDOM_OCR)
    assert not looks_like_irs_letter("")


def _codes(text: str) -> set[str]:
    return {s.code for s in assess(text).signals if s.weight > 0}


def test_exchange_named_as_income_payer_is_not_a_crypto_demand() -> None:
    table = "Payer Form Amount reported\nCOINBASE INC 1099-B 1,509.94 814.65\nPay the amount due."
    assert "pay_crypto" not in _codes(table)
    assert "pay_crypto" in _codes("Pay the balance in Bitcoin at the crypto ATM near you today.")


def test_arrest_threat_quoted_in_a_garbled_scam_warning_does_not_fire() -> None:
    garbled = "Beware of tax scams\n* to have you arrested by local police. We first contact you"
    assert "threat_arrest" not in _codes(garbled)
    assert "threat_arrest" in _codes("You will be arrested by local police if you do not pay.")


@pytest.mark.parametrize(
    ("stub", "fires"),
    [
        ("Make your check or money order payable to the United States §\nrenting", False),
        ("Make your check or money order payable to the U.S. Trask mods", False),
        ("Make your check or money order payable to United States Tax Settlement", True),
    ],
)
def test_damaged_treasury_stub_line(stub: str, fires: bool) -> None:
    assert ("payee_not_treasury" in _codes(stub)) is fires


# --------------------------------------------------------------------------------------------
# Damaged scans: OCR garbage must not make a scam, and a damaged scam must still be flagged
# --------------------------------------------------------------------------------------------

_SPECKS = [":", "ee", ";", "i", "ae", "~", "Bo", "2"]


def _damaged(text: str) -> str:
    """`text` as tesseract reads a heavy scan: a speck line (':', 'ee') after every line."""
    lines = [line for line in text.splitlines() if line.strip()]
    out: list[str] = []
    for i, line in enumerate(lines):
        out += [line, _SPECKS[i % len(_SPECKS)]]
    return "\n".join(out)


GENUINE_CP14_BODY = (
    GENUINE_HEADER
    + """To contact us Call 1-800-829-0922
You owe money on your 2023 taxes
Amount due: $1,204.16
Pay the amount due by April 3, 2024 to avoid more penalty and interest.
If you disagree, see Publication 594 and Publication 1, Your Rights as a Taxpayer.
Pay online at www.irs.gov/payments or by EFTPS.
We will never ask you to pay with a gift card, prepaid debit card,
cryptocurrency or wire transfer, and we won't ois to have you arrested by
local police.
Write your social security number, the tax year and the form number on your payment.
"""
)


def _letter(text: str) -> scam._Letter:
    return scam._Letter(text, scam._lexicon())


def test_speck_lines_mark_a_damaged_scan() -> None:
    assert not _letter(GENUINE_CP14_BODY).noisy
    assert _letter(_damaged(GENUINE_CP14_BODY)).noisy
    assert not _letter("Pay now.\n:\nee\n").noisy  # too few lines to judge


@pytest.mark.parametrize(
    "stub",
    [
        "Make your check or money order payable to the United States Cae\nthe ate some On ye on",
        "Make your check or money order payable to the United States Cae the ate some On ye",
        "Make your check or money order payable to the United States' ene + Write",
    ],
)
def test_garbled_treasury_stub_on_a_genuine_letter_is_not_a_scam(stub: str) -> None:
    text = _damaged(GENUINE_CP14_BODY + stub + "\n")
    result = assess(text, notice_code="CP14", notice_known=True, amount_due=Decimal("1204.16"))
    assert result.verdict == "genuine", result.signals
    payee = next(s for s in result.signals if s.code == "payee_not_treasury")
    assert payee.weight <= scam.UNCERTAIN_WEIGHT
    assert "damaged part of the scan" in payee.message


@pytest.mark.parametrize(
    "stub",
    [
        # seed 610001's CP501: specks read as '9' and '2' before a garbled Treasury
        "# Make yout check or money order payable to 9 the 2 United States eae Pre : '",
        # seed 640001's faxed CP90: a stub line OCR garbled, on a scan clean enough elsewhere
        "* Make your check or money order payable to the Uni ahin tr tha Itt monn Moan",
    ],
)
def test_a_payee_that_does_not_read_as_a_name_is_not_certain(stub: str) -> None:
    result = assess(GENUINE_HEADER + "\n" + stub + "\n")
    assert result.verdict == "genuine", result.signals
    payee = next(s for s in result.signals if s.code == "payee_not_treasury")
    assert payee.weight <= scam.UNCERTAIN_WEIGHT


def test_a_denial_with_an_ocr_accent_is_still_a_denial() -> None:
    """Seed 620001's heavy CP40: 'will néver ask you to pay with a gift card' read as a demand."""
    text = (
        GENUINE_HEADER
        + "\nThe agency will néver ask you to pay with a gift card, prepaid debit card or wire "
        "transfer, and it can't threaten you with arrest.\n"
    )
    result = assess(text)
    assert result.verdict == "genuine", result.signals
    assert not {"pay_gift_card", "pay_prepaid_card"} & {
        s.code for s in result.signals if s.weight > 0
    }


def test_a_threat_under_a_scam_warning_heading_is_not_certain() -> None:
    """Seed 640001's heavy CP75: OCR lost the "won't" of the IRS's own warning."""
    text = (
        GENUINE_HEADER
        + "\nIs this notice real?\nean eee as yout py wa. care, pas soba cesar re PSE\n"
        "The Sra you arretod by local police. We rst contacl OU BY Mail.\n"
    )
    result = assess(text)
    assert result.verdict == "genuine", result.signals
    threat = next(s for s in result.signals if s.code == "threat_arrest")
    assert threat.weight <= scam.UNCERTAIN_WEIGHT
    # The same threat without the heading is read as written.
    plain = assess(GENUINE_HEADER + "\nYou will be arrested by local police today.\n")
    strong = [s for s in plain.signals if s.weight >= scam.DECISIVE_WEIGHT]
    assert "threat_arrest" in {s.code for s in strong}


def test_readable_other_payee_after_united_states_is_still_certain() -> None:
    stub = "Make your check payable to United States Tax Settlement Office, P.O. Box 12."
    result = assess(_damaged("Pay $900 now.\n" + stub))
    payee = next(s for s in result.signals if s.code == "payee_not_treasury")
    assert payee.weight == 5.0


def test_denial_garbled_by_ocr_does_not_make_a_threat() -> None:
    result = assess(_damaged(GENUINE_CP14_BODY), notice_code="CP14", notice_known=True)
    assert result.verdict == "genuine", result.signals
    arrest = [s for s in result.signals if s.code == "threat_arrest"]
    assert all(s.weight <= scam.UNCERTAIN_WEIGHT for s in arrest)
    # The same words on a clean page are read as written: a denial needs its verb there.
    assert "threat_arrest" in _codes(GENUINE_CP14_BODY)


def test_strong_denial_with_its_verb_garbled_still_denies() -> None:
    assert "pay_gift_card" not in _codes("The IRS will never Pe payment by gift card.")
    assert "pay_gift_card" not in _codes("and wl never 'demand: a by gift card the money")
    # ...but a demand whose other word is a real one is not a denial.
    assert "pay_gift_card" in _codes("Checks will not clear. Pay only by gift card today.")


SCAM_TEXT = """BUREAU OF TAX ENFORCEMENT
Final notice of tax lien and levy
Your unpaid balance of $4,812.00 must be paid within 24 hours.
Pay with Google Play gift cards or Bitcoin at the crypto ATM near you.
Failure to pay will result in your arrest by local police.
Do not contact your tax preparer or attorney about this matter.
Call our agent at 302-555-0147 today.
Social security number XXX-XX-1234
Holtsville, NY 11742-9019
"""


def test_a_scam_on_a_damaged_scan_is_still_a_scam() -> None:
    result = assess(_damaged(SCAM_TEXT))
    assert result.verdict == "scam", result.signals
    assert {"fake_agency", "pay_gift_card", "deadline_hours"} <= positive(result)


def test_hints_alone_never_make_a_scam() -> None:
    text = (
        "Dear Tax Payer,\nNotice CP9Z\nA default judgment may follow.\n"
        "You owe $2,000.00. Call 302-555-0147 within 3 days."
    )
    result = assess(text, notice_code="CP9Z", notice_known=False, amount_due=Decimal("2000"))
    assert all(s.weight < scam.DECISIVE_WEIGHT for s in result.signals)
    assert sum(s.weight for s in result.signals) - 1 > 2  # enough weight for "scam"...
    assert result.verdict == "suspicious"  # ...but no decisive marker
    assert result.score < SCAM_AT


def test_one_marker_against_strong_legitimacy_is_suspicious_two_are_a_scam() -> None:
    one = FAKE_CP2000.replace("Letter Number: 105C\n", "").replace(
        "Austin Processing Center", "Internal Revenue Service"
    )
    kwargs = {"notice_code": "CP2000", "notice_known": True, "amount_due": Decimal("2431.00")}
    result = assess(one, **kwargs)
    assert [s.code for s in result.signals if s.weight >= scam.DECISIVE_WEIGHT] == [
        "payee_not_treasury"
    ]
    assert sum(s.weight for s in result.signals if s.weight < 0) <= -scam.CONTRADICTED_AT
    assert result.verdict == "suspicious"
    assert assess(FAKE_CP2000, **kwargs).verdict == "scam"  # payee I.R.S. + voucher 105C


@pytest.mark.parametrize(
    ("ocr", "code"),
    [
        ("Kansas Clty, MO 64l21-0010", "irs_campus_address"),
        ("Ogden UT 842O1", "irs_campus_address"),
        ("Your SSN XK-XKX8226", "masked_taxpayer_id"),
        ("Social security number xxx-xx. 5946", "masked_taxpayer_id"),
        ("Enclosures: Publication l66O, Collection Appeal Rights", "appeal_rights"),
        ("you may petition the United States Tax C0urt", "appeal_rights"),
        (
            "Make your check or money order payable to the tinned States. Treasury.",
            "payee_treasury",
        ),
        ("Make your check payable tothe United States theasuiny", "payee_treasury"),
        ("Use IRS Direct Pay at irs. gov/payments", "official_payment_channel"),
    ],
)
def test_legitimacy_markers_read_through_ocr_noise(ocr: str, code: str) -> None:
    assert code in codes(assess(ocr))


def test_treasury_payee_marker_is_not_a_company_named_after_it() -> None:
    result = assess("Make your check payable to US Treasury Recovery Group LLC.")
    assert "payee_treasury" not in codes(result)
    assert "payee_not_treasury" in codes(result)


def test_words_run_together_are_not_a_web_address() -> None:
    assert "web_address_not_gov" not in _codes("the tax year, the.tax year and the form number")
    assert "web_address_not_gov" in _codes("Settle your debt at www.the.tax today.")
    assert "web_address_not_gov" in _codes("Visit irs-refund.tax to claim it.")


def test_irs_number_with_two_digits_misread_on_a_damaged_scan_is_not_unknown() -> None:
    _catalog_or_skip()
    line = "Phone 800-820-0822 Your caller ID 1234"
    damaged = _damaged("We changed your return.\n" * 12 + line)
    assert "phone_unknown_only" not in codes(assess(damaged))
    assert "phone_unknown_only" in codes(assess(line))  # on a clean page, a look-alike
    assert "phone_unknown_only" in codes(assess("Call our agent at 302-555-0147 today."))


def test_collector_name_lost_to_ocr_is_not_a_rogue_collector() -> None:
    _catalog_or_skip()
    lost = assess("We assigned your account to: The law requires us to tell you this.")
    pca = next(s for s in lost.signals if s.code == "pca_not_authorised")
    assert pca.weight <= scam.UNCERTAIN_WEIGHT
    rogue = assess("We assigned your account to Federal Recovery Associates for collection.")
    assert next(s for s in rogue.signals if s.code == "pca_not_authorised").weight == 4.0


def test_missing_notice_number_weighs_half_on_a_damaged_scan() -> None:
    text = "You owe money on your taxes.\nAmount due: $661.94\nPay the amount due by May 1."
    clean = next(s for s in assess(text).signals if s.code == "notice_code_missing")
    damaged = assess(_damaged("\n".join([text] * 4)))
    noisy = next(s for s in damaged.signals if s.code == "notice_code_missing")
    assert noisy.weight == clean.weight * scam.NOISY_ABSENCE
    assert damaged.verdict == "genuine"


def test_summary_puts_the_damaged_scan_caveat_after_the_evidence() -> None:
    from ingest.record import CaseRecord, Source
    from ingest.report import summary

    text = _damaged(GENUINE_CP14_BODY + "Make your check payable to the United States Cae\n")
    record = CaseRecord(id="x", source=Source(sha256="x"), scam=assess(text))
    line = next(x for x in summary(record).splitlines() if "someone other than" in x)
    assert line.endswith('Cae"' + scam.UNCERTAIN_NOTE)
