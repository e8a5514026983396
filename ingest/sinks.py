"""Where batch records go: JSON Lines, CSV or SQLite, each written durably one record at a time.

Every sink keeps one rule that makes a batch safe to kill: a record is on disk (flushed and
fsynced) before the manifest says it is done, and a sink can tell which files it already holds
(`existing`), so a restart reconciles the two instead of trusting either alone. Text sinks append
whole lines with one write; a line torn by a kill is cut away when the sink is opened again.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Protocol

from .errors import ExitCode, IngestError
from .record import FIELD_NAMES

log = logging.getLogger(__name__)

Format = Literal["jsonl", "csv", "sqlite"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "sqlite")
_SUFFIXES: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".sqlite": "sqlite",
    ".sqlite3": "sqlite",
    ".db": "sqlite",
}

# The flattened core of a record: CSV columns and the typed columns of the SQLite `cases` table.
COLUMNS: tuple[str, ...] = (
    "id",
    "sha256",
    "path",
    "media_type",
    "pages",
    "page_range",
    "letters_in_file",
    "text_source",
    "status",
    "notice_code",
    "notice_date",
    "tax_years",
    "amount_due",
    "response_date",
    "taxpayer_id_last4",
    "taxpayer_name",
    "tax_form",
    "irs_phone",
    "notice_title",
    "stage",
    "notice_known",
    "scam_verdict",
    "scam_score",
    "scam_signals",
    "review_needed",
    "review_reasons",
    "next_deadline",
    "next_deadline_action",
    "error_code",
    "error_message",
    "error_page",
    "schema_version",
)
_FIELDS = FIELD_NAMES


class OutputError(IngestError):
    """OUT exists but is not something this batch wrote; refusing beats overwriting it."""

    code = "bad_output"
    exit_code = ExitCode.USAGE
    hint = "Point --out at a new file or at the output of an earlier batch."


def format_for(path: Path, explicit: str | None = None) -> Format:
    """The format asked for, else the one OUT's extension names, else JSON Lines."""
    if explicit:
        if explicit not in FORMATS:
            raise OutputError(f"Unknown output format {explicit!r} (use {', '.join(FORMATS)})")
        return explicit  # type: ignore[return-value]
    return _SUFFIXES.get(path.suffix.lower(), "jsonl")


def flatten(rec: dict[str, Any]) -> dict[str, Any]:
    """One flat row of the core fields of a record (its JSON form), one line of text each."""
    src = rec.get("source") or {}
    fields = rec.get("fields") or {}
    notice = rec.get("notice") or {}
    scam = rec.get("scam") or {}
    review = rec.get("review") or {}
    errors = rec.get("errors") or []
    failed = rec.get("status") == "failed"
    row: dict[str, Any] = {
        "id": rec.get("id"),
        "sha256": src.get("sha256"),
        "path": src.get("path"),
        "media_type": src.get("media_type"),
        "pages": src.get("pages"),
        "page_range": "-".join(str(n) for n in src.get("page_range") or []) or None,
        "letters_in_file": src.get("letters_in_file") or 1,
        "text_source": src.get("text_source"),
        "status": rec.get("status"),
    }
    for name in _FIELDS:
        value = (fields.get(name) or {}).get("value")
        row[name] = " ".join(str(v) for v in value) if isinstance(value, list) else value
    deadline = next(
        (s for s in rec.get("timeline") or [] if s.get("kind") == "deadline" and s.get("date")),
        None,
    )
    row.update(
        notice_title=notice.get("title"),
        stage=notice.get("stage"),
        notice_known=notice.get("known"),
        scam_verdict=None if failed else scam.get("verdict"),
        scam_score=None if failed else scam.get("score"),
        scam_signals=" ".join(s.get("code", "") for s in scam.get("signals") or []),
        review_needed=review.get("needed"),
        review_reasons="; ".join(review.get("reasons") or []),
        next_deadline=deadline.get("date") if deadline else None,
        next_deadline_action=deadline.get("action") if deadline else None,
        error_code=errors[0].get("code") if errors else None,
        error_message=errors[0].get("message") if errors else None,
        error_page=errors[0].get("page") if errors else None,
        schema_version=rec.get("schema_version"),
    )
    return {k: _one_line(v) for k, v in row.items()}


_VERDICT_RANK = {"scam": 3, "suspicious": 2, "genuine": 1}


def file_row(recs: list[dict[str, Any]]) -> dict[str, Any]:
    """The manifest's row for one file: its first letter's, with the strongest verdict and
    review flag of all its letters (a stack holding one scam is a file to look at)."""
    rows = [flatten(r) for r in recs]
    row = dict(rows[0])
    row["scam_verdict"] = max(
        (r["scam_verdict"] for r in rows), key=lambda v: _VERDICT_RANK.get(v or "", 0)
    )
    row["review_needed"] = any(r["review_needed"] for r in rows)
    return row


def _one_line(value: Any) -> Any:
    # A newline inside a CSV cell would make a record span two lines and defeat torn-line repair.
    if isinstance(value, str):
        return " ".join(value.splitlines())
    return value


class Sink(Protocol):
    path: Path

    def existing(self) -> dict[str, dict[str, Any]]:
        """Flat rows already in OUT, by the SHA-256 of the file they were read from."""
        ...

    def remove(self, shas: set[str]) -> None:
        """Drop the records of these files (before they are read again), durably."""
        ...

    def write(self, rec: dict[str, Any]) -> None:
        """Append one record; it is on disk when this returns."""
        ...

    def write_all(self, recs: list[dict[str, Any]]) -> None:
        """Append the records of one file (several when a stack was cut) in one durable write."""
        ...

    def write_duplicate(self, path: str, sha256: str, of_path: str) -> None: ...

    def close(self) -> None: ...


def open_sink(path: Path, fmt: Format) -> Sink:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "sqlite":
        return SqliteSink(path)
    return CsvSink(path) if fmt == "csv" else JsonlSink(path)


class _LineSink:
    """Append-only text file: one record per line, one write and one fsync per record."""

    header: str | None = None

    def __init__(self, path: Path) -> None:
        self.path = path
        created = not path.exists()
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if created:
            _fsync_dir(path.parent)
        self._repair()
        if self.header and os.fstat(self._fd).st_size == 0:
            self._append(self.header)

    def _repair(self) -> None:
        """Cut a last line that a kill left without its newline: it never finished."""
        size = os.fstat(self._fd).st_size
        if size == 0:
            return
        with self.path.open("rb") as fh:
            fh.seek(max(0, size - 1))
            if fh.read(1) == b"\n":
                return
            keep = _last_newline_end(fh, size)
        os.truncate(self.path, keep)
        os.fsync(self._fd)
        log.warning(
            "%s: cut a torn last line (%d bytes) left by an interrupted run", self.path, size - keep
        )

    def _lines(self) -> Iterator[tuple[int, str]]:
        with self.path.open(encoding="utf-8", newline="") as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    yield number, line

    def _append(self, text: str) -> None:
        data = text.encode("utf-8")
        while data:
            written = os.write(self._fd, data)
            data = data[written:]
        os.fsync(self._fd)

    def _rewrite_without(self, shas: set[str], sha_of: Any) -> None:
        """Rewrite OUT without some records: temp file, fsync, atomic rename."""
        tmp = self.path.with_name(self.path.name + ".rewrite")
        kept = 0
        with (
            self.path.open(encoding="utf-8", newline="") as src,
            tmp.open("w", encoding="utf-8", newline="") as dst,
        ):
            for number, line in enumerate(src, 1):
                if number == 1 and self.header is not None:
                    dst.write(line)
                    continue
                if line.strip() and sha_of(line) in shas:
                    continue
                dst.write(line)
                kept += 1
            dst.flush()
            os.fsync(dst.fileno())
        os.close(self._fd)
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def write_duplicate(self, path: str, sha256: str, of_path: str) -> None:
        """Text outputs hold one record per case; duplicates live in the manifest."""

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class JsonlSink(_LineSink):
    def existing(self) -> dict[str, dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for number, line in self._lines():
            try:
                rec = json.loads(line)
                rec["source"]["sha256"]
            except (ValueError, KeyError, TypeError):
                raise OutputError(f"{self.path} line {number} is not a case record") from None
            rows.append(flatten(rec))
        return _whole_files(self, rows)

    def remove(self, shas: set[str]) -> None:
        if shas:
            self._rewrite_without(shas, lambda line: json.loads(line)["source"]["sha256"])

    def write(self, rec: dict[str, Any]) -> None:
        self.write_all([rec])

    def write_all(self, recs: list[dict[str, Any]]) -> None:
        self._append("".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in recs))


class CsvSink(_LineSink):
    header = ",".join(COLUMNS) + "\n"

    def existing(self) -> dict[str, dict[str, Any]]:
        with self.path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if tuple(reader.fieldnames or ()) != COLUMNS:
                raise OutputError(f"{self.path} has other columns than a batch writes")
            rows = list(reader)
        return _whole_files(self, rows)

    def remove(self, shas: set[str]) -> None:
        if shas:
            at = COLUMNS.index("sha256")
            self._rewrite_without(shas, lambda line: next(csv.reader([line]))[at])

    def write(self, rec: dict[str, Any]) -> None:
        self.write_all([rec])

    def write_all(self, recs: list[dict[str, Any]]) -> None:
        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\n")
        for rec in recs:
            row = flatten(rec)
            out.writerow([_csv_cell(row[c]) for c in COLUMNS])
        self._append(buf.getvalue())


def _whole_files(sink: Sink, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rows by file, dropping (from OUT too) a stack whose letters were not all written: a kill
    in the middle of its write. The manifest then sees the file as not done and reads it again."""
    count: Counter[str] = Counter(str(r["sha256"]) for r in rows)
    want = {str(r["sha256"]): int(r.get("letters_in_file") or 1) for r in rows}
    torn = {sha for sha, n in count.items() if n < want[sha]}
    if torn:
        log.warning("%s: dropped the partly written letters of %d file(s)", sink.path, len(torn))
        sink.remove(torn)
    return {str(r["sha256"]): r for r in rows if str(r["sha256"]) not in torn}


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


_SQL_TYPES = {
    "pages": "INTEGER",
    "letters_in_file": "INTEGER",
    "error_page": "INTEGER",
    "scam_score": "REAL",
}


def _sql_type(column: str) -> str:
    if column.endswith(("_known", "_needed")):
        return "INTEGER"  # booleans as 0/1
    return _SQL_TYPES.get(column, "TEXT")


class SqliteSink:
    """`cases`: one row per letter of each distinct file read (core columns plus the full
    record as JSON; a cut stack has a row per letter, ids carrying the page range);
    `letters`: one row per file name seen, pointing at its case, duplicates included."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            cols = ",\n  ".join(
                f"{c} {_sql_type(c)}" + (" PRIMARY KEY" if c == "id" else "") for c in COLUMNS
            )
            self._db.executescript(
                f"""
                CREATE TABLE IF NOT EXISTS cases (
                  {cols},
                  record TEXT NOT NULL
                );
                CREATE INDEX IF NOT EXISTS cases_sha256 ON cases(sha256);
                CREATE TABLE IF NOT EXISTS letters (
                  path TEXT PRIMARY KEY,
                  sha256 TEXT NOT NULL,
                  duplicate_of TEXT,
                  seen_at TEXT NOT NULL DEFAULT (datetime('now'))
                );
                CREATE INDEX IF NOT EXISTS letters_sha256 ON letters(sha256);
                """
            )
            have = {row[1] for row in self._db.execute("PRAGMA table_info(cases)")}
            for c in COLUMNS:  # an OUT written by an older version gains the new columns
                if c not in have:
                    self._db.execute(f"ALTER TABLE cases ADD COLUMN {c} {_sql_type(c)}")
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise OutputError(f"{path} is not a usable SQLite database ({exc})") from None

    def existing(self) -> dict[str, dict[str, Any]]:
        cur = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM cases")
        return {row[1]: dict(zip(COLUMNS, row, strict=True)) for row in cur}

    def remove(self, shas: set[str]) -> None:
        if not shas:
            return
        with self._tx():
            for sha in shas:
                self._db.execute("DELETE FROM cases WHERE sha256 = ?", (sha,))
                self._db.execute(
                    "DELETE FROM letters WHERE sha256 = ? AND duplicate_of IS NULL", (sha,)
                )

    def write(self, rec: dict[str, Any]) -> None:
        self.write_all([rec])

    def write_all(self, recs: list[dict[str, Any]]) -> None:
        with self._tx():  # a stack's letters land together or not at all
            for rec in recs:
                row = flatten(rec)
                self._db.execute(
                    f"INSERT OR REPLACE INTO cases ({', '.join(COLUMNS)}, record) "
                    f"VALUES ({', '.join('?' * (len(COLUMNS) + 1))})",
                    [row[c] for c in COLUMNS] + [json.dumps(rec, ensure_ascii=False)],
                )
            self._db.execute(
                "INSERT OR REPLACE INTO letters (path, sha256, duplicate_of) VALUES (?, ?, NULL)",
                (row["path"], row["sha256"]),
            )

    def write_duplicate(self, path: str, sha256: str, of_path: str) -> None:
        with self._tx():
            self._db.execute(
                "INSERT OR REPLACE INTO letters (path, sha256, duplicate_of) VALUES (?, ?, ?)",
                (path, sha256, of_path),
            )

    def _tx(self) -> _Transaction:
        return _Transaction(self._db)

    def close(self) -> None:
        self._db.close()


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")


def _last_newline_end(fh: Any, size: int) -> int:
    """Offset just past the last newline before `size` (0 when there is none)."""
    pos = size
    while pos > 0:
        step = min(65536, pos)
        pos -= step
        fh.seek(pos)
        chunk = fh.read(step)
        at = chunk.rfind(b"\n")
        if at >= 0:
            return pos + at + 1
    return 0


def _fsync_dir(folder: Path) -> None:
    """Make a create or rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
