"""The notice catalog loads, its cross-references hold, and its lookups read real IRS wording."""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from ingest.catalog import (
    Catalog,
    CatalogError,
    NoticeEntry,
    code_key,
    load_catalog,
    normalize_text,
    phone_digits,
)
from ingest.stages import STAGE_NAMES, STAGES, stage_label, stage_rank

SHARED = Path(__file__).parents[1] / ".." / "shared"
REALTEXT = SHARED / "realtext"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _raw_data() -> dict:
    text = (resources.files("ingest") / "data" / "notices.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _letter_text(path: Path) -> str:
    """Verbatim letter text from a realtext file, without its provenance header."""
    text = path.read_text(encoding="utf-8")
    marker = "---- text below this line"
    if marker in text:
        text = text.split(marker, 1)[1].split("\n", 1)[1]
    return text


# -- every entry, every cross-reference ----------------------------------------------------------


def test_every_entry_and_cross_reference(catalog: Catalog) -> None:
    assert len(catalog.notices) >= 60
    assert catalog.codes == {e.code for e in catalog.notices}
    for e in catalog.notices:
        assert e.stage in STAGE_NAMES, e.code
        if e.next_notice is not None:
            assert catalog.get(e.next_notice) is not None, (e.code, e.next_notice)
            # Ignoring a notice never moves a case back down the process.
            assert stage_rank(catalog.get(e.next_notice).stage) >= stage_rank(e.stage), e.code
        if e.next_lag_source is not None:
            assert e.next_lag_source in catalog.sources, e.code
        for key in e.sources:
            assert catalog.sources[key].startswith(("http://", "https://")), (e.code, key)
        for printed in (e.code, *e.aliases):
            assert catalog.canonical(printed) == e.code, (printed, e.code)
        for phrase in e.title_phrases:
            assert phrase == phrase.lower(), (e.code, phrase)
    for item in (*catalog.pcas, *catalog.irs_phones):
        assert all(key in catalog.sources for key in item.sources), item
    assert catalog.secondary_sources <= catalog.sources.keys()


def test_every_source_key_is_used() -> None:
    """The [sources] table is a reference list for this file, not a copy of all of §9."""
    data = _raw_data()
    used: set[str] = set()
    for e in data["notice"]:
        used.update(e["sources"])
        if "next_lag_source" in e:
            used.add(e["next_lag_source"])
    for item in (*data["pca"], *data["irs_phone"]):
        used.update(item["sources"])
    assert set(data["sources"]) == used


def test_catalog_is_cached() -> None:
    assert load_catalog() is load_catalog()


# Codes named in the brief for this catalog (irs_notices.md §1), as the IRS prints them.
BRIEF_CP_AND_LT_CODES = """
    CP14 CP14C CP14H CP14I CP14IA CP501 CP503 CP504 CP504B LT11 CP90 CP90C CP297 CP297A
    CP297C CP77 CP91 CP523 LT16 LT14 LT38 LT39 CP71 CP71A CP71C CP71D CP71H CP508C CP40
    CP140 CP59 CP259 CP2566 CP3219N CP88 CP2501 CP2000 CP3219A CP75 CP05 CP11 CP12 CP23
    CP24 CP21B CP22A CP49 CP60 CP32 CP32A CP87A CP01 CP01A CP01E CP161 CP136 CP236 CP134B
    CP134R CP162 CP162A CP2100 CP2100A
"""


def test_brief_codes_present(catalog: Catalog) -> None:
    wanted = BRIEF_CP_AND_LT_CODES.split()
    wanted += [
        "Letter 1058",
        "Letter 3172",
        "Form 668-A",
        "Form 668-W",
        "Letter 4458C",
        "Letter 6152",
        "Letter 1153",
        "Letter 3219",
        "Letter 525",
        "Letter 950",
        "Letter 12C",
        "Letter 5071C",
        "Letter 4883C",
        "Letter 5747C",
        "Letter 6331C",
    ]
    assert [c for c in wanted if c not in catalog.codes] == []
    # CP515/CP518 are printed with an I/B suffix today; the bare form still resolves.
    assert catalog.canonical("CP515") == "CP515I"
    assert catalog.canonical("CP518") == "CP518I"


def test_known_facts(catalog: Catalog) -> None:
    lt11 = catalog.get("LT11")
    assert lt11 is not None
    assert (lt11.response_days, lt11.response_purpose, lt11.certified) == (
        30,
        "request_hearing",
        True,
    )
    assert "cdp_hearing" in lt11.rights
    cp504 = catalog.get("CP504")
    assert cp504 is not None and "cdp_hearing" not in cp504.rights and "cap" in cp504.rights
    assert catalog.get("CP3219A").response_days == 90
    assert catalog.get("Letter 1153").response_days == 60
    assert catalog.get("CP11").dispute_days == 60
    assert catalog.get("CP49").requests_payment is False
    assert catalog.get("CP14").requests_payment is True


# -- stage order -----------------------------------------------------------------------------------


def test_collection_stream_follows_stage_order(catalog: Catalog) -> None:
    stream = []
    code: str | None = "CP14"
    while code is not None and len(stream) < 5:
        stream.append(code)
        code = catalog.get(code).next_notice
    assert stream == ["CP14", "CP501", "CP503", "CP504", "LT11"]
    ranks = [stage_rank(catalog.get(c).stage) for c in stream]
    assert ranks == sorted(ranks)
    assert stage_rank("balance_due") < stage_rank("reminder") < stage_rank("pre_levy_warning")
    assert stage_rank("pre_levy_warning") < stage_rank("final_notice_intent_to_levy")
    assert stage_rank("final_notice_intent_to_levy") < stage_rank("levy")
    assert stage_rank("deficiency") < stage_rank("balance_due")


def test_stage_vocabulary() -> None:
    assert len(STAGE_NAMES) == len(STAGES)
    assert all(stage_label(name) for name in STAGE_NAMES)
    with pytest.raises(KeyError):
        stage_rank("final notice")


# -- canonical() -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "code"),
    [
        ("CP14", "CP14"),
        ("cp 14", "CP14"),
        ("CP-14", "CP14"),
        ("Notice CP14", "CP14"),
        ("NOTICE CP 14", "CP14"),
        ("IRS Notice CP504", "CP504"),
        ("CP 504B", "CP504B"),
        ("CP71C", "CP71C"),
        ("CP 71C", "CP71C"),
        ("LT11", "LT11"),
        ("lt 11", "LT11"),
        ("Letter 1058", "Letter 1058"),
        ("LTR1058", "Letter 1058"),
        ("LTR 1058", "Letter 1058"),
        ("Letter 1058 (Rev. 7-2019)", "Letter 1058"),
        ("L1058", "Letter 1058"),
        ("1058", "Letter 1058"),
        ("Letter 1058(DO)", "Letter 1058"),
        ("Ltr 3172", "Letter 3172"),
        ("Letter 3172(DO)", "Letter 3172"),
        ("5071C", "Letter 5071C"),
        ("LTR 5071C", "Letter 5071C"),
        ("Letter 12C", "Letter 12C"),
        ("Form 668-A", "Form 668-A"),
        ("Form 668-A(ICS)", "Form 668-A"),
        ("668-W(ACS)", "Form 668-W"),
        ("Form 668(Z)", "Form 668(Z)"),
        ("Letter 2566", "CP2566"),
        ("CP\u00a014", "CP14"),
        ("Notice CP14 (Rev. 01-2018)", "CP14"),
    ],
)
def test_canonical_printed_forms(catalog: Catalog, printed: str, code: str) -> None:
    assert catalog.canonical(printed) == code


@pytest.mark.parametrize(
    "printed",
    [
        "CP9999",
        "CP14X",
        "CP 1400",
        "LT 1058",
        "Letter 9999",
        "Form 1040",
        "1040",
        "14",
        "CP",
        "Letter",
        "",
        "Notice of Intent to Levy",
        "Form 668",
    ],
)
def test_canonical_unknown_stays_unknown(catalog: Catalog, printed: str) -> None:
    assert catalog.canonical(printed) is None
    assert catalog.lookup(printed) is None


def test_code_key_is_stable() -> None:
    assert code_key("Notice CP 14") == code_key("cp-14") == "CP14"
    assert code_key("Letter 5071C") == code_key("LTR 5071C") == "5071C"
    assert code_key("LT11") == "LT11"


# -- by_title() ------------------------------------------------------------------------------------

SAMPLES = {
    "irs_cp11_sample.txt": "CP11",
    "irs_cp12_sample.txt": "CP12",
    "irs_cp13_sample.txt": "CP13",
    "irs_cp14_sample.txt": "CP14",
    "irs_cp49_sample.txt": "CP49",
    "irs_cp501_sample.txt": "CP501",
    "irs_cp503_sample.txt": "CP503",
    "irs_cp504_sample.txt": "CP504",
    "irs_cp523_sample.txt": "CP523",
    "irs_cp59_sample.txt": "CP59",
    "irs_cp71c_sample.txt": "CP71C",
    "irs_cp90_sample.txt": "CP90",
}


@pytest.mark.parametrize(("name", "code"), sorted(SAMPLES.items()))
def test_by_title_on_real_irs_samples(catalog: Catalog, name: str, code: str) -> None:
    path = REALTEXT / name
    if not path.is_file():
        pytest.skip(f"real sample text not available: {path} (shared/ is not checked out)")
    text = _letter_text(path)
    entry = catalog.by_title(text)
    assert entry is not None and entry.code == code
    # The code printed on the sample is also what canonical() makes of it.
    assert catalog.canonical(f"Notice {code}") == code


def test_by_title_without_the_code_line(catalog: Catalog) -> None:
    """Title matching must work when OCR lost the code: drop every line naming it."""
    path = REALTEXT / "irs_cp503_sample.txt"
    if not path.is_file():
        pytest.skip(f"real sample text not available: {path} (shared/ is not checked out)")
    lines = [ln for ln in _letter_text(path).splitlines() if "CP503" not in ln]
    entry = catalog.by_title("\n".join(lines))
    assert entry is not None and entry.code == "CP503"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (
            "FINAL NOTICE -\nNotice of Intent to Levy and Notice of Your Right to a Hearing",
            "Letter 1058",
        ),
        ("Notice of intent to levy and notice of your right to a hearing\nPlease respond", "LT11"),
        (
            "Notice of Federal Tax Lien Filing and Your Right to a Hearing Under IRC 6320",
            "Letter 3172",
        ),
        ("Second  reminder:\nYou have unpaid taxes for 2016", "CP503"),
        ("We\u2019re holding your refund until we verify", "CP05"),
        ("Dear taxpayer, please send gift cards", None),
    ],
)
def test_by_title_phrases(catalog: Catalog, text: str, code: str | None) -> None:
    entry = catalog.by_title(text)
    assert (entry.code if entry else None) == code


def test_no_title_phrase_hits_another_real_sample(catalog: Catalog) -> None:
    """A phrase that fires on a different genuine notice would misclassify it."""
    if not REALTEXT.is_dir():
        pytest.skip(f"real sample texts not available: {REALTEXT}")
    for name, code in SAMPLES.items():
        path = REALTEXT / name
        if not path.is_file():
            continue
        haystack = f" {normalize_text(_letter_text(path))} "
        hits = {
            e.code
            for e in catalog.notices
            for p in e.title_phrases
            if f" {normalize_text(p)} " in haystack
        }
        # Reminders legitimately repeat CP501's wording; the longest phrase still wins.
        assert hits - {"CP501"} <= {code}, (name, hits)


# -- phones and collection agencies ------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("800-829-1040", True),
        ("1-800-829-1040", True),
        ("(800) 829-1040", True),
        ("Phone 800.829.0922", True),
        ("1-800-TAX-FORM", True),
        ("800-829-4933", True),
        ("1-800-xxx-xxxx", False),
        ("888-928-0510", False),  # Coast Professional: genuine, but a PCA, not the IRS
        ("202-555-0143", False),
        ("829-1040", False),
    ],
)
def test_is_irs_phone(catalog: Catalog, number: str, expected: bool) -> None:
    assert catalog.is_irs_phone(number) is expected


def test_phone_digits() -> None:
    assert phone_digits("+1 (800) 829-1040") == "8008291040"
    assert phone_digits("12345") is None


def test_pca_lookup(catalog: Catalog) -> None:
    assert {p.name for p in catalog.pcas} >= {"CBE", "Coast Professional", "ConServe"}
    cbe = catalog.pca_by_name("Payments: The CBE Group, Inc., P.O. Box 2217, Waterloo, IA")
    assert cbe is not None and cbe.name == "CBE"
    coast = catalog.pca_by_name("COAST PROFESSIONAL, INC. will contact you")
    assert coast is not None and coast.name == "Coast Professional"
    assert catalog.pca_by_name("East Coast Tax Relief Group") is None
    assert catalog.pca_by_name("conservation society") is None
    pioneer = catalog.pca_by_name("Pioneer, Horseheads NY")
    assert pioneer is not None
    assert pioneer.active_on(dt.date(2019, 5, 1))
    assert not pioneer.active_on(dt.date(2023, 5, 1))


# -- validation rejects broken data --------------------------------------------------------------


def _entry(**overrides: object) -> dict:
    base = {
        "code": "CP9001",
        "title": "Test",
        "audience": "individual",
        "stage": "reminder",
        "response_purpose": "pay",
        "certified": False,
        "requests_payment": True,
        "sources": ["irs-cp14"],
    }
    return {**base, **overrides}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"stage": "collections"}, "stage"),
        ({"next_notice": "CP9002"}, "next_notice"),
        ({"sources": ["no-such-key"]}, "unknown source key"),
        ({"aliases": ["CP 14"]}, "read as"),
        ({"aliases": ["Notice CP14"]}, "alias"),
        ({"title_phrases": ["You Have A Balance Due"]}, "lowercase"),
        ({"title_phrases": ["you have a balance due"]}, "title phrase"),
        ({"rights": ["free_lawyer"]}, "rights"),
    ],
)
def test_validation_rejects(overrides: dict, message: str) -> None:
    data = _raw_data()
    data["notice"] = [*data["notice"], _entry(**overrides)]
    with pytest.raises(ValueError, match=message):
        Catalog.model_validate(data)


def test_valid_extra_entry_loads() -> None:
    data = _raw_data()
    data["notice"] = [*data["notice"], _entry()]
    extended = Catalog.model_validate(data)
    assert isinstance(extended.get("CP9001"), NoticeEntry)
    assert extended.canonical("cp 9001") == "CP9001"


def test_catalog_error_is_an_ingest_error() -> None:
    from ingest.errors import IngestError

    assert issubclass(CatalogError, IngestError)
