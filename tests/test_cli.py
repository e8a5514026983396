"""The CLI as a user meets it: the acceptance letter, JSON output, schema, doctor, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import realtext
from fixtures.render import render_text_page
from ingest.cli import main
from ingest.errors import ExitCode


@pytest.fixture(scope="module")
def cp14_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The IRS sample CP14 printed and scanned at 300 DPI."""
    _, lines = realtext("irs_cp14_sample.txt")
    path = tmp_path_factory.mktemp("scan") / "cp14.png"
    render_text_page(lines, dpi=300, degrade="light", seed=3).save(path, dpi=(300, 300))
    return path


def test_file_acceptance_cp14(cp14_scan: Path) -> None:
    result = CliRunner().invoke(main, ["file", str(cp14_scan), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    f = record["fields"]
    assert f["notice_code"]["value"] == "CP14"
    assert f["notice_date"]["value"] == "2018-01-30"
    assert f["tax_years"]["value"] == [2017]
    assert f["amount_due"]["value"] == "1075.21"
    assert f["response_date"]["value"] == "2018-02-20"
    assert record["notice"]["known"] is True
    assert record["source"]["text_source"] == "ocr"
    assert f["amount_due"]["page"] == 1 and len(f["amount_due"]["bbox"]) == 4


def test_file_summary_is_readable(cp14_scan: Path) -> None:
    result = CliRunner().invoke(main, ["file", str(cp14_scan), "--today", "2018-02-01"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "CP14" in out and "$1,075.21" in out and "2018-02-20" in out
    assert "Scam check: looks genuine" in out
    assert "Next steps:" in out


def test_schema_is_json_schema() -> None:
    result = CliRunner().invoke(main, ["schema"])
    schema = json.loads(result.output)
    assert schema["title"] == "CaseRecord"
    for key in (
        "schema_version",
        "id",
        "source",
        "status",
        "fields",
        "notice",
        "scam",
        "timeline",
        "review",
        "errors",
    ):
        assert key in schema["properties"]


def test_doctor_reports_tesseract() -> None:
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "tesseract: 5." in result.output and "eng" in result.output


BAD = {
    "empty.pdf": (b"", ExitCode.BAD_INPUT, "empty"),
    "random.pdf": (os.urandom(2048), ExitCode.BAD_INPUT, "not a PDF"),
    "broken.pdf": (b"%PDF-1.7\n" + b"garbage " * 100, ExitCode.BAD_INPUT, "PDF"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_one_line_and_exit_code(tmp_path: Path, name: str) -> None:
    data, code, words = BAD[name]
    path = tmp_path / name
    path.write_bytes(data)
    proc = _run("file", str(path))
    assert proc.returncode == code
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in proc.stderr


def test_encrypted_pdf(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "locked.pdf"
    c = canvas.Canvas(str(path), encrypt="s3cret")
    c.drawString(72, 720, "Notice CP14")
    c.save()
    proc = _run("file", str(path))
    assert proc.returncode == ExitCode.BAD_INPUT
    assert "password-protected" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_blank_page_is_no_text(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "blank.png"
    Image.new("L", (2550, 3300), 255).save(path, dpi=(300, 300))
    proc = _run("file", str(path))
    assert proc.returncode == ExitCode.NO_TEXT
    assert "No readable text" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_missing_tesseract(tmp_path: Path, cp14_scan: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # no tesseract anywhere on PATH
    proc = _run("file", str(cp14_scan), env=env)
    assert proc.returncode == ExitCode.MISSING_DEPENDENCY
    assert "apt-get install tesseract-ocr" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_file(tmp_path: Path) -> None:
    proc = _run("file", str(tmp_path / "nope.pdf"))
    assert proc.returncode == ExitCode.BAD_INPUT and "No such file" in proc.stderr


def test_batch_records_failures_and_goes_on(tmp_path: Path, cp14_scan: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "good.png").write_bytes(cp14_scan.read_bytes())
    (inbox / "empty.pdf").write_bytes(b"")
    (inbox / ".DS_Store").write_bytes(b"junk")
    out = tmp_path / "cases.jsonl"
    proc = _run("batch", str(inbox), "--out", str(out))
    assert proc.returncode == ExitCode.BATCH_FAILURES
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2
    by_name = {Path(r["source"]["path"]).name: r for r in records}
    assert by_name["good.png"]["status"] == "ok"
    assert by_name["empty.pdf"]["status"] == "failed"
    assert by_name["empty.pdf"]["errors"][0]["code"] == "empty_file"


def test_help_documents_exit_codes() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "Exit codes" in result.output and "7 batch" in result.output.replace("\n", " ")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingest.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
