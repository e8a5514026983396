"""One scan, several letters: cuts, page ranges, ids, review on doubt, batch and `split`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from conftest import SAMPLES
from fixtures.generator import Plan, generate
from fixtures.stacks import make_stacks
from ingest import ocr
from ingest.batch import run_batch
from ingest.cli import main
from ingest.document import Document, Line, Page, Word
from ingest.pipeline import Options, letter_records, read_file, read_letter
from ingest.split import SURE, split


def _concat(parts: list[bytes]) -> bytes:
    out = pdfium.PdfDocument.new()
    for data in parts:
        src = pdfium.PdfDocument(data)
        out.import_pages(src)
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def born_digital(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """Text-layer letters (no OCR, so fast): three of 1-2 pages and one of four pages."""
    out = tmp_path_factory.mktemp("letters")
    plans = [
        Plan("CP14", False, "classic", "pdf_text", "clean", 2),
        Plan("CP504", False, "reference_box", "pdf_text", "clean", 1),
        Plan("LT11", False, "acs_lt", "pdf_text", "clean", 2),
        Plan("CP504", False, "classic", "pdf_text", "clean", 4),
    ]
    labels = generate(out, len(plans), 4242, plans=plans, workers=1)
    return out, labels


def test_a_stack_gives_one_record_per_letter_with_its_page_range(
    born_digital: tuple[Path, list[dict]],
) -> None:
    out, labels = born_digital
    order = [2, 0, 1]
    stack = _concat([(out / labels[i]["file"]).read_bytes() for i in order])
    records = read_file(stack, options=Options(jobs=1))
    assert len(records) == 3
    start = 1
    for i, rec in zip(order, records, strict=True):
        pages = labels[i]["pages"]
        assert rec.source.page_range == [start, start + pages - 1]
        assert rec.id == f"{rec.source.sha256}:p{start}-{start + pages - 1}"
        assert rec.source.letters_in_file == 3
        assert rec.fields.notice_code.value == labels[i]["fields"]["notice_code"]
        assert str(rec.fields.notice_date.value) == labels[i]["fields"]["notice_date"]
        page = rec.fields.notice_code.page
        assert page is not None and start <= page <= start + pages - 1  # the file's numbering
        start += pages


def test_a_long_letter_is_never_cut(born_digital: tuple[Path, list[dict]]) -> None:
    out, labels = born_digital
    long = labels[3]
    assert long["pages"] == 4
    (rec,) = read_file(out / long["file"], options=Options(jobs=1))
    assert rec.id == rec.source.sha256 and rec.source.page_range == [1, 4]
    assert rec.source.letters_in_file == 1


def test_no_split_keeps_the_file_whole(born_digital: tuple[Path, list[dict]]) -> None:
    out, labels = born_digital
    stack = _concat([(out / labels[i]["file"]).read_bytes() for i in (0, 1)])
    (rec,) = read_file(stack, options=Options(jobs=1, split=False))
    assert rec.id == rec.source.sha256
    assert read_letter(stack, options=Options(jobs=1)).id == rec.id  # read_letter never cuts


def _page(number: int, text: str) -> Page:
    words = [
        Word(w, (72.0 + 40 * i, 300.0, 100.0 + 40 * i, 312.0), 0.9, "ocr")
        for i, w in enumerate(text.split())
    ]
    return Page(number, 612, 792, [Line(words)], "ocr")


def test_a_cut_without_evidence_sends_both_letters_to_review() -> None:
    body = "we have changed your account and you may owe more than shown here today"
    doc = Document([_page(1, body), _page(2, body + " again")])
    parts, gaps = split(doc)
    (gap,) = gaps
    assert gap.confidence < SURE
    assert all(part.doubts for part in parts)
    assert "page 2" in parts[0].doubts[0]


def test_blank_pages_belong_to_no_letter() -> None:
    first = _page(1, "Page 1 of 1 Notice CP14 we show you owe tax for 2022 please pay")
    blank = _page(2, "")
    second = _page(3, "Page 1 of 1 Notice CP501 reminder you still owe tax for 2021 now")
    parts, _ = split(Document([first, blank, second]))
    assert [(p.first, p.last) for p in parts] == [(1, 1), (3, 3)]


def test_an_unreadable_page_is_a_letter_page_not_a_blank_one() -> None:
    """Print that OCR could not read (ink, no confident word) must not vanish like a blank
    sheet: it becomes a letter of its own, sent to review, beside the readable ones."""
    first = _page(1, "Page 1 of 1 Notice CP14 we show you owe tax for 2022 please pay it now")
    first.lines += [  # enough text to read as a well-read page
        Line([Word(w, (72.0, 340.0 + 12 * i, 100.0, 350.0 + 12 * i), 0.9, "ocr")])
        for i, w in enumerate(("amount", "due", "by", "the", "date") * 8)
    ]
    damaged = _page(2, "")
    damaged.ink = 0.01
    damaged.lines = [Line([Word("Mie", (72.0, 300.0, 90.0, 310.0), 0.03, "ocr")])]
    empty = _page(3, "")
    empty.ink = 0.00001
    second = _page(4, "Page 1 of 1 Notice CP501 reminder you still owe tax for 2021 now")
    parts, gaps = split(Document([first, damaged, empty, second]))
    assert [(p.first, p.last) for p in parts] == [(1, 1), (2, 2), (4, 4)]
    assert any("page 2 cannot be read" in r for g in gaps for r in g.reasons)

    records = letter_records(parts)
    assert records[1].review.needed


def test_an_empty_sheet_is_not_sent_to_tesseract() -> None:
    """An empty noisy sheet costs tesseract seconds and gives nothing: no ink, no run (the
    command given here does not exist, so a run would fail)."""
    noise = np.random.default_rng(1).normal(246, 3, (1100, 850)).clip(0, 255).astype(np.uint8)
    sheet = Image.fromarray(noise, "L")
    assert ocr.ink(sheet) < ocr.NO_INK
    page = ocr.ocr_page(sheet, scale=72 / 100, page=1, cmd="/nonexistent/tesseract")
    assert page.fragments == [] and page.ink is not None

    printed = Image.new("L", (850, 1100), 255)
    draw = ImageDraw.Draw(printed)
    draw.text((100, 300), "Page 3 of 3", fill=0, font_size=24)
    assert ocr.ink(printed) >= ocr.NO_INK


def test_batch_writes_every_letter_of_a_stack_and_resumes(
    tmp_path: Path, born_digital: tuple[Path, list[dict]]
) -> None:
    out, labels = born_digital
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "stack.pdf").write_bytes(
        _concat([(out / labels[i]["file"]).read_bytes() for i in (1, 3, 0)])
    )
    (inbox / "single.pdf").write_bytes((out / labels[2]["file"]).read_bytes())
    result_path = tmp_path / "cases.jsonl"
    result = run_batch(inbox, result_path, options=Options(jobs=1))
    assert result.letters == 4 and result.processed == 2
    recs = [json.loads(line) for line in result_path.read_text().splitlines()]
    stack = [r for r in recs if r["source"]["path"].endswith("stack.pdf")]
    sizes = [labels[i]["pages"] for i in (1, 3, 0)]
    ends = [sum(sizes[: k + 1]) for k in range(3)]
    assert [r["source"]["page_range"] for r in stack] == [
        [end - size + 1, end] for end, size in zip(ends, sizes, strict=True)
    ]
    assert len({r["id"] for r in recs}) == 4

    # A kill in the middle of the stack's write leaves part of it: the next run redoes it.
    kept = [line for line in result_path.read_text().splitlines() if stack[2]["id"] not in line]
    result_path.write_text("\n".join(kept) + "\n")
    again = run_batch(inbox, result_path, options=Options(jobs=1))
    assert again.processed == 1 and again.skipped == 1
    recs = [json.loads(line) for line in result_path.read_text().splitlines()]
    assert sorted(r["id"] for r in recs) == sorted({r["id"] for r in recs})
    assert len(recs) == 4


def test_split_command_writes_one_pdf_per_letter(
    tmp_path: Path, born_digital: tuple[Path, list[dict]]
) -> None:
    out, labels = born_digital
    scan = tmp_path / "mail.pdf"
    scan.write_bytes(_concat([(out / labels[i]["file"]).read_bytes() for i in (0, 2)]))
    result = CliRunner().invoke(main, ["split", str(scan), str(tmp_path / "letters")])
    assert result.exit_code == 0, result.output
    written = sorted((tmp_path / "letters").glob("*.pdf"))
    assert [p.name for p in written] == ["mail_p1-2.pdf", "mail_p3-4.pdf"]
    for path, lab in zip(written, (labels[0], labels[2]), strict=True):
        assert len(pdfium.PdfDocument(path.read_bytes())) == lab["pages"]
        (rec,) = read_file(path, options=Options(jobs=1))
        assert rec.fields.notice_code.value == lab["fields"]["notice_code"]


def _blotted_page_pdf() -> bytes:
    """One scanned page of print no OCR can read: ink blots, no words."""
    sheet = Image.new("L", (1275, 1650), 250)
    draw = ImageDraw.Draw(sheet)
    rng = np.random.default_rng(3)
    for _ in range(60):
        x, y = int(rng.integers(100, 1100)), int(rng.integers(100, 1500))
        w, h = int(rng.integers(20, 90)), int(rng.integers(10, 40))
        draw.ellipse((x, y, x + w, y + h), fill=int(rng.integers(20, 90)))
    buf = io.BytesIO()
    sheet.save(buf, "PDF", resolution=150)
    return buf.getvalue()


def test_an_unreadable_letter_in_a_stack_gets_its_own_record_in_review(
    born_digital: tuple[Path, list[dict]],
) -> None:
    """Real OCR on the blotted page: the letters either side keep their ranges, and the page
    is neither lost nor silently added to one of them."""
    out, labels = born_digital
    first, second = labels[1], labels[0]
    stack = _concat(
        [
            (out / first["file"]).read_bytes(),
            _blotted_page_pdf(),
            (out / second["file"]).read_bytes(),
        ]
    )
    records = read_file(stack, options=Options(jobs=1))
    a, b = first["pages"], second["pages"]
    assert [r.source.page_range for r in records] == [[1, a], [a + 1, a + 1], [a + 2, a + 1 + b]]
    unread = records[1]
    assert unread.status == "partial" and unread.review.needed
    assert [e.code for e in unread.errors] == ["no_text"]
    assert records[2].fields.notice_code.value == second["fields"]["notice_code"]


def test_a_scanned_stack_is_cut_where_its_letters_start(tmp_path: Path) -> None:
    """Real OCR: sample scans stacked with blank back sides and separators."""
    rows = make_stacks(SAMPLES, tmp_path, count=1, seed=3, low=3, high=4)
    (row,) = rows
    records = read_file(tmp_path / row["file"], options=Options(jobs=2))
    assert [r.source.page_range for r in records] == [letter["pages"] for letter in row["letters"]]
    for rec, letter in zip(records, row["letters"], strict=True):
        assert rec.fields.notice_code.value == letter["label"]["fields"]["notice_code"]
