"""The mailroom batch: resumable after kill -9, idempotent, duplicates, outputs, failures, hot
folder, Dask, and the library iterator. Inputs are a few short letters rendered as scans."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import png_bytes
from fixtures.render import render_text_page
from ingest import read_letters
from ingest.batch import Batch, BatchBusyError, default_state, letter_files, retry_failed, run_batch
from ingest.cli import main
from ingest.errors import ExitCode
from ingest.executors import LocalExecutor, Task
from ingest.manifest import Manifest
from ingest.pipeline import Options
from ingest.progress import LogProgress
from ingest.sinks import JsonlSink
from ingest.watch import _poll, watch

LETTERS = {
    "a_cp14.png": [
        "Department of the Treasury",
        "Internal Revenue Service",
        "Kansas City, MO 64999-0025",
        "Notice CP14",
        "Notice date January 30, 2018",
        "Tax year 2017",
        "Social security number 123-45-6789",
        "JOHN Q SAMPLE",
        "You have unpaid taxes for 2017.",
        "Amount due: $1,075.21",
        "Pay by February 20, 2018",
        "Call us at 800-829-0922",
    ],
    "b_cp504.png": [
        "Department of the Treasury",
        "Internal Revenue Service",
        "Notice CP504",
        "Notice date March 10, 2025",
        "Tax year 2023",
        "Notice of intent to seize (levy) your property or rights to property",
        "Amount due immediately: $4,512.33",
        "Pay by April 9, 2025",
    ],
    "c_scam.png": [
        "IRS TAX DEBT COLLECTION UNIT",
        "FINAL NOTICE OF LIEN",
        "You owe back taxes of $8,214.00.",
        "Call 1-888-555-0199 today to avoid arrest.",
        "Pay with gift cards or wire transfer to settle your account.",
    ],
}
BAD = {"x_empty.pdf": b"", "y_random.pdf": b"not a letter at all " * 40}
SSN = "123-45-6789"


@pytest.fixture(scope="module")
def scans() -> dict[str, bytes]:
    return {
        name: png_bytes(render_text_page(lines, seed=i))
        for i, (name, lines) in enumerate(LETTERS.items())
    }


def make_inbox(folder: Path, scans: dict[str, bytes], names: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in {**scans, **BAD}.items():
        if names is None or name in names:
            (folder / name).write_bytes(data)
    return folder


def lines_of(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingest.cli", *args], capture_output=True, text=True, timeout=300
    )


ONE = Options(jobs=1)


def test_kill_9_then_resume_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, scans: dict[str, bytes]
) -> None:
    inbox = make_inbox(tmp_path / "in", scans)
    out = tmp_path / "out" / "cases.jsonl"
    args = [sys.executable, "-m", "ingest.cli", "batch", str(inbox), "--out", str(out), "-j", "1"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 1:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = out.read_bytes().count(b"\n")
    assert 1 <= written < len(LETTERS) + len(BAD), "the kill must land mid-run"
    with out.open("ab") as fh:  # what a kill in the middle of a write leaves
        fh.write(b'{"schema_version": "1", "id": "torn')

    again = cli("batch", str(inbox), "--out", str(out), "-j", "1")
    assert again.returncode == ExitCode.BATCH_FAILURES, again.stderr
    records = lines_of(out)
    paths = sorted(Path(r["source"]["path"]).name for r in records)
    assert paths == sorted([*LETTERS, *BAD])
    assert len({r["source"]["sha256"] for r in records}) == len(records)
    assert f"{len(records) - written} read now" in again.stderr
    assert SSN not in again.stderr and "123456789" not in again.stderr

    before = out.read_bytes()
    third = cli("batch", str(inbox), "--out", str(out), "-j", "1")
    assert third.returncode == ExitCode.BATCH_FAILURES
    assert "0 read now" in third.stderr and "status: failed 2, ok 3" in third.stderr
    assert out.read_bytes() == before


def test_reconcile_adopts_records_the_manifest_missed_and_redoes_lost_ones(
    tmp_path: Path, scans: dict[str, bytes]
) -> None:
    inbox = make_inbox(tmp_path / "in", scans, ["a_cp14.png", *BAD])
    out = tmp_path / "cases.jsonl"
    first = run_batch(inbox, out, options=ONE)
    assert first.processed == 3 and first.failed == 2
    good = next(r for r in lines_of(out) if r["status"] == "ok")
    # Killed after the record was written but before the manifest said done:
    db = sqlite3.connect(default_state(out))
    db.execute("DELETE FROM files WHERE sha256 = ?", (good["source"]["sha256"],))
    db.commit()
    db.close()
    again = run_batch(inbox, out, options=ONE)
    assert again.processed == 0 and len(lines_of(out)) == 3
    assert Manifest(default_state(out)).get(good["source"]["sha256"]).done  # type: ignore[union-attr]
    # OUT lost a record the manifest says is done (e.g. killed while OUT was rewritten):
    kept = [ln for ln in out.read_text().splitlines() if good["source"]["sha256"] not in ln]
    out.write_text("\n".join(kept) + "\n")
    third = run_batch(inbox, out, options=ONE)
    assert third.processed == 1 and len(lines_of(out)) == 3


def test_torn_last_line_is_cut_and_foreign_output_refused(tmp_path: Path) -> None:
    out = tmp_path / "cases.jsonl"
    out.write_bytes(b'{"source": {"sha256": "aa", "path": "x"}, "status": "ok"}\n{"sou')
    sink = JsonlSink(out)
    assert set(sink.existing()) == {"aa"}
    sink.close()
    assert out.read_bytes().endswith(b'"ok"}\n')
    foreign = tmp_path / "notes.jsonl"
    foreign.write_text("hello\nworld\n")
    with pytest.raises(Exception, match="not a case record"):
        Batch(foreign)


def test_duplicates_point_to_the_case_and_force_redoes(
    tmp_path: Path, scans: dict[str, bytes]
) -> None:
    inbox = make_inbox(tmp_path / "in", scans, ["b_cp504.png"])
    (inbox / "sub").mkdir()
    (inbox / "sub" / "copy.png").write_bytes(scans["b_cp504.png"])
    out = tmp_path / "cases.jsonl"
    first = run_batch(inbox, out, options=ONE)
    assert (first.files, first.processed, first.duplicates) == (2, 1, 1)
    assert len(lines_of(out)) == 1
    dups = Manifest(default_state(out)).duplicates()
    assert dups == {str(inbox / "sub" / "copy.png"): str(inbox / "b_cp504.png")}

    forced = run_batch(inbox, out, options=ONE, force=True)
    assert forced.processed == 1 and forced.duplicates == 1
    assert len(lines_of(out)) == 1

    respelt = run_batch(inbox / "sub" / "..", out, options=ONE)  # same files, other spelling
    assert (respelt.processed, respelt.skipped, respelt.duplicates) == (0, 1, 1)
    (inbox / "b_cp504.png").rename(inbox / "moved.png")  # a move is not a copy
    moved = run_batch(inbox, out, options=ONE)
    assert (moved.processed, moved.skipped, moved.duplicates) == (0, 1, 1)
    assert len(lines_of(out)) == 1


def test_csv_and_sqlite_outputs(tmp_path: Path, scans: dict[str, bytes]) -> None:
    inbox = make_inbox(tmp_path / "in", scans, ["a_cp14.png", "x_empty.pdf"])
    (inbox / "again.png").write_bytes(scans["a_cp14.png"])
    runner = CliRunner()
    csv_out = tmp_path / "cases.csv"
    result = runner.invoke(main, ["batch", str(inbox), "--out", str(csv_out), "-j", "1"])
    assert result.exit_code == ExitCode.BATCH_FAILURES, result.output
    rows = list(csv.DictReader(csv_out.open(encoding="utf-8")))
    assert len(rows) == 2 and len(csv_out.read_text().splitlines()) == 3
    by_status = {r["status"]: r for r in rows}
    assert by_status["ok"]["notice_code"] == "CP14"
    assert by_status["ok"]["taxpayer_id_last4"] in ("6789", "")
    assert by_status["failed"]["error_code"] == "empty_file"

    db_out = tmp_path / "cases.db"
    result = runner.invoke(main, ["batch", str(inbox), "--out", str(db_out), "-j", "1"])
    assert result.exit_code == ExitCode.BATCH_FAILURES, result.output
    db = sqlite3.connect(db_out)
    joined = db.execute(
        "SELECT l.path, l.duplicate_of, c.status, json_extract(c.record, '$.notice.code') "
        "FROM letters l JOIN cases c ON c.sha256 = l.sha256 ORDER BY l.path"
    ).fetchall()
    names = [(Path(p).name, d and Path(d).name, s, code) for p, d, s, code in joined]
    assert names == [
        ("a_cp14.png", None, "ok", "CP14"),
        ("again.png", "a_cp14.png", "ok", "CP14"),
        ("x_empty.pdf", None, "failed", None),
    ]
    assert db.execute("SELECT count(*) FROM cases").fetchone() == (2,)


def test_quarantine_then_retry_only_the_failed(tmp_path: Path, scans: dict[str, bytes]) -> None:
    inbox = make_inbox(tmp_path / "in", scans, ["a_cp14.png", *BAD])
    out, qdir = tmp_path / "cases.jsonl", tmp_path / "quarantine"
    first = run_batch(inbox, out, options=ONE, quarantine=qdir)
    assert first.failed == 2 and first.quarantined == 2
    side = json.loads((qdir / "x_empty.pdf.json").read_text())
    assert side["errors"][0]["code"] == "empty_file" and side["path"].endswith("x_empty.pdf")
    assert (qdir / "y_random.pdf").read_bytes() == BAD["y_random.pdf"]
    assert "a_cp14.png" not in os.listdir(qdir)

    (inbox / "y_random.pdf").write_bytes(scans["c_scam.png"])  # re-scanned under the same name
    runner = CliRunner()
    result = runner.invoke(main, ["retry", "--out", str(out), "-j", "1"])
    assert result.exit_code == ExitCode.BATCH_FAILURES, result.output  # x_empty still fails
    assert "2 files: 2 read now" in result.output and "1 superseded" in result.output
    records = {Path(r["source"]["path"]).name: r for r in lines_of(out)}
    assert len(lines_of(out)) == 3
    assert records["y_random.pdf"]["status"] == "ok"
    assert records["x_empty.pdf"]["status"] == "failed"

    (inbox / "x_empty.pdf").write_bytes(scans["b_cp504.png"])
    last = retry_failed(out, options=ONE)
    assert last.failed == 0 and last.processed == 1
    assert [r["status"] for r in lines_of(out)] == ["ok", "ok", "ok"]
    assert retry_failed(out, options=ONE).files == 0


def test_links_out_of_the_folder_and_own_files_are_not_read(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    secret = tmp_path / "elsewhere.pdf"
    secret.write_bytes(b"%PDF-1.4 outside")
    (inbox / "link.pdf").symlink_to(secret)
    (inbox / ".DS_Store").write_bytes(b"junk")
    (inbox / "scan.pdf.part").write_bytes(b"partial")
    (inbox / "bad.pdf").write_bytes(b"")
    assert [p.name for p in letter_files(inbox)] == ["bad.pdf"]
    out = inbox / "cases.jsonl"  # OUT inside IN: the batch must not read its own files
    run_batch(inbox, out, options=ONE)
    again = run_batch(inbox, out, options=ONE)
    assert again.files == 1 and [r["source"]["path"] for r in lines_of(out)] == [
        str(inbox / "bad.pdf")
    ]


def test_one_batch_per_output(tmp_path: Path) -> None:
    out = tmp_path / "cases.jsonl"
    with Batch(out), pytest.raises(BatchBusyError):
        Batch(out)
    Batch(out).close()  # released on close


def test_file_that_keeps_killing_its_worker_is_given_up(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    poison = inbox / "poison.pdf"
    poison.write_bytes(b"%PDF-1.4 pretend this crashes the renderer")
    out = tmp_path / "cases.jsonl"
    sha = hashlib.sha256(poison.read_bytes()).hexdigest()
    manifest = Manifest(default_state(out))
    for _ in range(3):  # three runs died while it was in hand
        manifest.queued(sha, str(poison))
    manifest.close()
    result = run_batch(inbox, out, options=ONE)
    (record,) = lines_of(out)
    assert record["source"]["sha256"] == sha and record["errors"][0]["code"] == "worker_crashed"
    assert result.failed == 1


def crashy(path: str, data: bytes, options: Options) -> tuple[dict, float]:
    """A worker that dies like a segfault on one file and reads the others instantly."""
    if "crash" in path:
        os._exit(3)
    time.sleep(0.2)
    sha = hashlib.sha256(data).hexdigest()
    return {"id": sha, "status": "ok", "source": {"path": path, "sha256": sha, "pages": 1}}, 0.2


def test_a_worker_crash_fails_only_its_own_file() -> None:
    tasks = [Task(f"{name}.png", name, data=name.encode()) for name in ("a", "b", "crash", "c")]
    executor = LocalExecutor(2, worker=crashy)
    try:
        done = {t.path: rec for t, rec, _ in executor.run(tasks, ONE)}
    finally:
        executor.close()
    assert sorted(done) == ["a.png", "b.png", "c.png", "crash.png"]
    assert done["crash.png"]["status"] == "failed"
    assert done["crash.png"]["errors"][0]["code"] == "worker_crashed"
    assert all(done[p]["status"] == "ok" for p in ("a.png", "b.png", "c.png"))


def test_read_letters_yields_records_as_they_finish(
    scans: dict[str, bytes], tmp_path: Path
) -> None:
    inbox = make_inbox(tmp_path, scans, ["a_cp14.png", "b_cp504.png", "x_empty.pdf"])
    paths = [inbox / n for n in ("a_cp14.png", "b_cp504.png", "x_empty.pdf", "missing.pdf")]
    records = list(read_letters(paths, jobs=2))
    by_name = {Path(r.source.path or "").name: r for r in records}
    assert sorted(by_name) == ["a_cp14.png", "b_cp504.png", "missing.pdf", "x_empty.pdf"]
    assert by_name["b_cp504.png"].notice.code == "CP504"
    assert by_name["missing.pdf"].errors[0].code == "file_not_found"


def test_watch_once_reads_what_is_there(tmp_path: Path, scans: dict[str, bytes]) -> None:
    inbox = make_inbox(tmp_path / "in", scans, ["a_cp14.png", "x_empty.pdf"])
    out = tmp_path / "cases.jsonl"
    args = ["watch", str(inbox), "--out", str(out), "--once", "--settle", "0", "-j", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == ExitCode.BATCH_FAILURES, result.output
    assert "a_cp14.png: ok" in result.output and len(lines_of(out)) == 2
    result = CliRunner().invoke(main, args)
    assert "0 read now" in result.output and len(lines_of(out)) == 2


def test_watch_waits_until_a_file_stops_growing(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    growing = inbox / "scan.pdf"
    growing.write_bytes(b"%PDF-1.4 first half")
    seen: dict = {}
    handled: dict = {}
    with Batch(tmp_path / "cases.jsonl") as batch:
        assert _poll(inbox, batch, seen, handled, settle=0.3) == ([], 1)
        time.sleep(0.15)
        with growing.open("ab") as fh:
            fh.write(b" second half")
        assert _poll(inbox, batch, seen, handled, settle=0.3) == ([], 1)
        time.sleep(0.35)
        assert _poll(inbox, batch, seen, handled, settle=0.3) == ([growing], 0)


def test_watch_stops_cleanly_and_keeps_what_it_read(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    out = tmp_path / "cases.jsonl"
    stop = threading.Event()
    with Batch(out, options=ONE, progress=LogProgress(sys.stderr, 0)) as batch:
        worker = threading.Thread(
            target=lambda: watch(inbox, batch, interval=0.05, settle=0.1, stop=stop)
        )
        worker.start()
        (inbox / "late.pdf").write_bytes(b"")  # arrives while watching
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (out.exists() and out.read_text()):
            time.sleep(0.05)
        stop.set()
        worker.join(10)
        assert not worker.is_alive()
    (record,) = lines_of(out)
    assert record["errors"][0]["code"] == "empty_file"


def test_dask_gives_the_same_records_as_local(tmp_path: Path, scans: dict[str, bytes]) -> None:
    pytest.importorskip("distributed")
    from ingest.executors import DaskExecutor

    inbox = make_inbox(tmp_path / "in", scans, ["b_cp504.png", "c_scam.png", "x_empty.pdf"])
    today = Options(jobs=1, today=dt.date(2025, 3, 15))
    local, remote = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    run_batch(inbox, local, options=today)
    executor = DaskExecutor(jobs=2, processes=False)
    run_batch(inbox, remote, options=today, executor=executor)

    def key(r: dict) -> str:
        return r["source"]["path"]

    assert sorted(lines_of(local), key=key) == sorted(lines_of(remote), key=key)
    assert len(lines_of(remote)) == 3


def test_summary_and_log_lines(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    for name, data in BAD.items():
        (inbox / name).write_bytes(data)
    args = ["batch", str(inbox), "--out", str(tmp_path / "o.jsonl"), "-j", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == ExitCode.BATCH_FAILURES
    out = result.output
    assert "2 files to read (0 already done, 0 duplicates)" in out
    assert "2/2 files, 0 pages" in out and "pages/s" in out and "ETA" in out
    for part in (
        "status: failed 2",
        "verdict: none",
        "stage: none",
        "review needed: 0",
        "errors: empty_file 1, unsupported_type 1",
        "o.jsonl.manifest.sqlite",
    ):
        assert part in out
