"""The synthetic corpus generator: reproducible, well-formed, and its labels are what is printed.

Rendering is the slow part, so one small corpus is generated per module and shared; checks on
content and labels run on laid-out pages without rendering them.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image, ImageSequence

from fixtures.data import fmt_date, label_amount, money
from fixtures.families import FAMILIES
from fixtures.generator import SAMPLE_PLANS, Plan, build_letter, generate, main
from fixtures.genuine import GENUINE
from fixtures.render import render_text_page, render_text_pages
from fixtures.scams import SCAMS

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "fixtures" / "samples"
REALTEXT = Path("/work/shared/realtext")

LABEL_KEYS = {"file", "id", "is_scam", "scam_family", "genuine_type", "family", "degradation",
              "format", "pages", "font", "stage", "fields", "distractors"}
FIELD_KEYS = {"notice_code", "notice_date", "tax_years", "amount_due", "response_date",
              "taxpayer_id_last4", "taxpayer_name", "tax_form", "irs_phone"}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
AMOUNT = re.compile(r"^\d+\.\d{2}$")
PHONE = re.compile(r"^\d{3}-\d{3}-\d{4}$")
CODE = re.compile(r"^(CP\d{1,4}[A-Z]?|LT\d{1,2}|Letter \d{3,4}[A-Z]?)$")
FORMS = {"1040", "1040-SR", "1040NR", "941", "940", "1120", "1120-S", "1065"}
DEGRADATIONS = {"clean", "light", "heavy", "sideways", "upside_down", "fax", "stamp"}
N = 12
SEED = 20240611


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("corpus")
    return out, generate(out, N, SEED)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_labels_file_matches_return_value(corpus: tuple[Path, list[dict]]) -> None:
    out, labels = corpus
    lines = (out / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x) for x in lines] == labels
    assert len(labels) == N
    assert [x["id"] for x in labels] == [f"{i:04d}" for i in range(N)]


def test_same_seed_same_bytes(corpus: tuple[Path, list[dict]], tmp_path: Path) -> None:
    out, _ = corpus
    again = tmp_path / "again"
    generate(again, N, SEED, workers=1)  # different process layout, same corpus
    assert _digest(again) == _digest(out)


def test_different_seeds_differ() -> None:
    a = [build_letter(1, i)[0].truth for i in range(8)]
    b = [build_letter(2, i)[0].truth for i in range(8)]
    assert a != b


def test_label_schema(corpus: tuple[Path, list[dict]]) -> None:
    _, labels = corpus
    for lab in labels:
        assert set(lab) == LABEL_KEYS
        f = lab["fields"]
        assert set(f) == FIELD_KEYS
        assert lab["format"] in {"pdf_image", "pdf_text", "png", "jpeg", "tiff"}
        assert lab["degradation"] in DEGRADATIONS
        assert lab["family"] in FAMILIES
        assert 1 <= lab["pages"] <= 4
        assert lab["file"] == f"letters/{lab['id']}.{lab['file'].rsplit('.', 1)[1]}"
        if lab["format"] == "pdf_text":
            assert lab["degradation"] == "clean"
        if lab["is_scam"]:
            assert lab["scam_family"] in SCAMS and lab["genuine_type"] is None
            assert lab["stage"] is None
        else:
            assert lab["scam_family"] is None and lab["genuine_type"] == f["notice_code"]
            assert isinstance(lab["stage"], str)
        _check_fields(f)


def _check_fields(f: dict) -> None:
    assert f["notice_code"] is None or CODE.match(f["notice_code"]), f
    for k in ("notice_date", "response_date"):
        assert f[k] is None or DATE.match(f[k]), f
    assert f["tax_years"] == sorted(f["tax_years"])
    assert all(isinstance(y, int) and 2000 < y < 2030 for y in f["tax_years"])
    assert f["amount_due"] is None or AMOUNT.match(f["amount_due"]), f
    assert f["taxpayer_id_last4"] is None or re.fullmatch(r"\d{4}", f["taxpayer_id_last4"])
    assert f["tax_form"] is None or f["tax_form"] in FORMS
    assert f["irs_phone"] is None or PHONE.match(f["irs_phone"]), f
    if f["response_date"] and f["notice_date"]:
        assert f["response_date"] > f["notice_date"]


def test_files_open_and_page_counts(corpus: tuple[Path, list[dict]]) -> None:
    out, labels = corpus
    for lab in labels:
        path = out / lab["file"]
        assert path.is_file(), path
        if lab["format"].startswith("pdf"):
            with pdfplumber.open(path) as pdf:
                assert len(pdf.pages) == lab["pages"]
                text = "".join(p.extract_text() or "" for p in pdf.pages)
                if lab["format"] == "pdf_text":
                    assert len(text) > 200
                else:
                    assert text.strip() == ""
                    assert all(p.images for p in pdf.pages)
        else:
            with Image.open(path) as im:
                frames = [fr.copy() for fr in ImageSequence.Iterator(im)]
            assert len(frames) == lab["pages"]
            for fr in frames:
                fr.load()
                assert min(fr.size) >= 1000  # 200 DPI or better


def test_shipped_samples() -> None:
    labels = [json.loads(x) for x in (SAMPLES / "labels.jsonl").read_text().splitlines()]
    assert len(labels) == len(SAMPLE_PLANS) == 12
    for lab, plan in zip(labels, SAMPLE_PLANS, strict=True):
        assert (SAMPLES / lab["file"]).is_file()
        assert lab["format"] == plan.fmt and lab["family"] == plan.family
        assert (lab["scam_family"] or lab["genuine_type"]) == plan.kind
    assert sum(p.stat().st_size for p in SAMPLES.iterdir()) < 8_000_000


def test_samples_reproducible(tmp_path: Path) -> None:
    """The documented command rebuilds the committed labels exactly (pixels may vary with the
    JPEG library version, so only labels are compared)."""
    assert main([str(tmp_path), "--samples", "--quiet"]) == 0
    assert (tmp_path / "labels.jsonl").read_bytes() == (SAMPLES / "labels.jsonl").read_bytes()


# -- content checks on laid-out pages (no rendering) -------------------------------------------

STYLES = ("long", "num", "short", "abbr", "nocomma", "caps")


def _printed_on_page1(built) -> list[str]:
    """Every labelled value must be visible on page 1 (PNG/JPEG files carry only page 1)."""
    t = built.truth
    page = built.pages[0].plain_text()
    flat = re.sub(r"\s+", " ", page)
    digits = re.sub(r"\D", "", page)
    bad = []
    if t.notice_code:
        core = t.notice_code.replace("Letter ", "")
        if core not in re.sub(r"\b(CP|LT) ", r"\1", flat):
            bad.append("notice_code")
    for name in ("notice_date", "response_date"):
        d = getattr(t, name)
        if d and not any(fmt_date(d, s) in flat for s in STYLES):
            bad.append(name)
    if t.amount_due is not None:
        c = t.amount_due
        forms = {money(c), money(c, dollar=False), money(c, show_cents=False),
                 money(c, dollar=False, show_cents=False)}
        if not any(x in flat for x in forms):
            bad.append("amount_due")
    if t.taxpayer_id_last4 and t.taxpayer_id_last4 not in flat:
        bad.append("taxpayer_id_last4")
    if t.taxpayer_name and t.taxpayer_name not in page.splitlines():
        bad.append("taxpayer_name")
    if t.irs_phone and t.irs_phone.replace("-", "") not in digits:
        bad.append("irs_phone")
    if any(str(y) not in flat for y in t.tax_years):
        bad.append("tax_years")
    if t.tax_form and f"{t.tax_form}" not in flat:
        bad.append("tax_form")
    forms_seen = re.findall(r"Form (1040(?:-SR|NR)?|941|940|1120(?:-S)?|1065)\b", flat)
    if forms_seen and t.tax_form not in forms_seen:
        bad.append("tax_form_unlabelled")
    masked = re.findall(r"(?:[Xx*]{3}-[Xx*]{2}-|[Xx*]{2}-[Xx*]{3})(\d{4})", flat)
    if any(m != t.taxpayer_id_last4 for m in masked):
        bad.append("masked_tin_mismatch")
    return bad


def test_labels_are_printed_on_page_one() -> None:
    problems = {}
    for i in range(160):
        built = build_letter(99, i)[0]
        bad = _printed_on_page1(built)
        if bad:
            problems[(i, built.kind, built.family)] = bad
    assert not problems


@pytest.mark.parametrize("kind", sorted(GENUINE))
def test_every_genuine_type_in_every_family(kind: str) -> None:
    for family in GENUINE[kind].families:
        for i in range(3):
            built = build_letter(7, i, Plan(kind=kind, family=family))[0]
            assert not built.is_scam and built.family == family
            assert built.truth.notice_code is not None
            assert not _printed_on_page1(built), (kind, family, i)


@pytest.mark.parametrize("kind", sorted(SCAMS))
def test_every_scam_family_in_every_layout(kind: str) -> None:
    for family in SCAMS[kind].families:
        for i in range(4):
            built = build_letter(7, i, Plan(kind=kind, family=family))[0]
            assert built.is_scam and built.kind == kind
            assert not _printed_on_page1(built), (kind, family, i)


def test_catalog_breadth_and_mix() -> None:
    assert len(GENUINE) >= 25
    assert len(SCAMS) >= 6
    built = [build_letter(3, i)[0] for i in range(120)]
    scams = sum(b.is_scam for b in built)
    assert 0.15 < scams / len(built) < 0.45
    assert len({b.family for b in built}) >= 6
    assert len({b.face for b in built}) >= 5
    assert {len(b.pages) for b in built} >= {1, 2, 3}
    genuine = [b for b in built if not b.is_scam]
    assert any(b.truth.amount_due is None for b in genuine)  # CP40, CP05, identity letters
    assert any(b.truth.response_date is None for b in genuine)
    assert any("scam_warning" in b.planted for b in genuine)  # hard negatives


def test_no_pipeline_imports() -> None:
    """The generator is the independent source of truth: it must not use the pipeline."""
    for py in (REPO / "fixtures").glob("*.py"):
        src = py.read_text()
        assert not re.search(r"^\s*(from|import)\s+(ingest|extractors|classifiers)\b", src,
                             re.M), py


# -- render_text_page and the CLI -------------------------------------------------------------


def _realtext_lines(name: str) -> list[str]:
    text = (REALTEXT / name).read_text(encoding="utf-8")
    return [ln for ln in text.splitlines() if not ln.startswith("#")]


@pytest.mark.skipif(not REALTEXT.is_dir(), reason="shared realtext not available")
def test_render_text_page_realtext() -> None:
    lines = _realtext_lines("irs_cp14_sample.txt")
    im = render_text_page(lines, seed=1)
    assert im.size == (2550, 3300)
    pages = render_text_pages(lines, degrade="heavy", seed=1)
    assert len(pages) >= 2 and pages[0].size == (1700, 2200)


def test_render_text_page_rotations() -> None:
    lines = ["Notice CP14", "Amount due: $1,075.21", "x " * 200]
    side = render_text_page(lines, dpi=100, degrade="sideways", seed=3)
    assert side.size == (1100, 850)
    assert render_text_page(lines, dpi=100, degrade="upside_down").size == (850, 1100)
    assert render_text_page(lines, dpi=100, degrade="fax").mode == "1"


def test_cli(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    assert main([str(out), "--count", "2", "--seed", "5", "--formats", "png",
                 "--degradations", "clean", "--quiet"]) == 0
    labels = [json.loads(x) for x in (out / "labels.jsonl").read_text().splitlines()]
    assert [x["format"] for x in labels] == ["png", "png"]
    assert all((out / x["file"]).is_file() for x in labels)


def test_label_amount_matches_the_printed_negative() -> None:
    """A negative total prints as -$26.82; its label must say -26.82, not floor-divided -27.18."""
    assert label_amount(-2682) == "-26.82" and money(-2682) == "-$26.82"
    assert label_amount(107521) == "1075.21" and label_amount(None) is None
