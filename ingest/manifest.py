"""The batch manifest: what happened to each file, keyed by the SHA-256 of its bytes.

Keyed by content, not name, because scanners reuse names and mailrooms copy files twice: the same
bytes under a second name become a duplicate pointing at the first, and a new scan under an old
name is a new letter. OUT is the truth about which records exist; the manifest is the index that
makes a re-run cheap, and `reconcile` brings it in line with OUT after a crash.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files (
  sha256 TEXT PRIMARY KEY,           -- of the file's bytes (or of "unread:<path>")
  path TEXT NOT NULL,                -- where the case was read from
  state TEXT NOT NULL,               -- queued: handed to a worker | done: record is in OUT
  status TEXT,                       -- ok | partial | failed
  verdict TEXT,
  stage TEXT,
  review_needed INTEGER,
  pages INTEGER,
  error_code TEXT,
  error_message TEXT,
  error_page INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,  -- times queued since the last success or retry
  seconds REAL,
  quarantined TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_status ON files(status);
CREATE TABLE IF NOT EXISTS duplicates (
  path TEXT PRIMARY KEY,
  sha256 TEXT NOT NULL,              -- the case it duplicates: files.sha256
  seen_at TEXT NOT NULL
);
"""


@dataclass(slots=True)
class Entry:
    sha256: str
    path: str
    state: str
    status: str | None = None
    verdict: str | None = None
    stage: str | None = None
    review_needed: bool | None = None
    pages: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_page: int | None = None
    attempts: int = 0
    seconds: float | None = None
    quarantined: str | None = None

    @property
    def done(self) -> bool:
        return self.state == "done"


_ENTRY_COLUMNS = tuple(Entry.__slots__)  # type: ignore[attr-defined]


class Manifest:
    """One SQLite file; every change is its own committed transaction (synchronous=FULL)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def set_meta(self, **values: str) -> None:
        for key, value in values.items():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def get(self, sha256: str) -> Entry | None:
        row = self._db.execute(
            f"SELECT {', '.join(_ENTRY_COLUMNS)} FROM files WHERE sha256 = ?", (sha256,)
        ).fetchone()
        return _entry(row) if row else None

    def entries(self, shas: Iterable[str] | None = None) -> list[Entry]:
        cur = self._db.execute(f"SELECT {', '.join(_ENTRY_COLUMNS)} FROM files ORDER BY path")
        wanted = None if shas is None else set(shas)
        return [e for e in map(_entry, cur) if wanted is None or e.sha256 in wanted]

    def failed(self) -> list[Entry]:
        return [e for e in self.entries() if e.done and e.status == "failed"]

    def duplicates(self) -> dict[str, str]:
        """Duplicate path -> path of the case it points to."""
        cur = self._db.execute(
            "SELECT d.path, f.path FROM duplicates d JOIN files f ON f.sha256 = d.sha256"
        )
        return dict(cur.fetchall())

    def reconcile(self, present: Mapping[str, Mapping[str, Any]]) -> tuple[int, int]:
        """Trust OUT: adopt records the manifest missed, forget 'done' for records OUT lacks.

        A kill between writing a record and marking it done leaves the first case; a kill while
        OUT was being rewritten (--force, retry) or a hand-edited OUT leaves the second.
        """
        adopted = lost = 0
        known = {e.sha256: e for e in self.entries()}
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for sha, row in present.items():
                entry = known.get(sha)
                if entry is None or not entry.done:
                    self._upsert_done(sha, row, None)
                    adopted += 1
            for sha, entry in known.items():
                if entry.done and sha not in present:
                    self._db.execute("UPDATE files SET state = 'lost' WHERE sha256 = ?", (sha,))
                    lost += 1
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return adopted, lost

    def queued(self, sha256: str, path: str) -> None:
        """Mark a file handed to a worker; attempts count crashes that never came back."""
        self._db.execute(
            """INSERT INTO files (sha256, path, state, attempts, updated_at)
               VALUES (?, ?, 'queued', 1, ?)
               ON CONFLICT(sha256) DO UPDATE SET state = 'queued', path = excluded.path,
                 attempts = attempts + 1, updated_at = excluded.updated_at""",
            (sha256, path, _now()),
        )

    def done(self, row: Mapping[str, Any], seconds: float | None) -> None:
        self._upsert_done(str(row["sha256"]), row, seconds)

    def _upsert_done(self, sha: str, row: Mapping[str, Any], seconds: float | None) -> None:
        self._db.execute(
            """INSERT INTO files (sha256, path, state, status, verdict, stage, review_needed,
                 pages, error_code, error_message, error_page, attempts, seconds, updated_at)
               VALUES (?, ?, 'done', ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
               ON CONFLICT(sha256) DO UPDATE SET path = excluded.path, state = 'done',
                 status = excluded.status, verdict = excluded.verdict, stage = excluded.stage,
                 review_needed = excluded.review_needed, pages = excluded.pages,
                 error_code = excluded.error_code, error_message = excluded.error_message,
                 error_page = excluded.error_page, attempts = 0,
                 seconds = COALESCE(excluded.seconds, seconds),
                 updated_at = excluded.updated_at""",
            (
                sha,
                row.get("path") or "",
                row.get("status"),
                row.get("scam_verdict") or None,
                row.get("stage") or None,
                _bool(row.get("review_needed")),
                _int(row.get("pages")),
                row.get("error_code") or None,
                row.get("error_message") or None,
                _int(row.get("error_page")),
                seconds,
                _now(),
            ),
        )

    def forget(self, sha256: str) -> None:
        """A failed entry whose file now holds other bytes: the new bytes are a new letter."""
        self._db.execute("DELETE FROM files WHERE sha256 = ?", (sha256,))

    def reset_attempts(self, sha256: str) -> None:
        self._db.execute("UPDATE files SET attempts = 0 WHERE sha256 = ?", (sha256,))

    def quarantined(self, sha256: str, where: str) -> None:
        self._db.execute("UPDATE files SET quarantined = ? WHERE sha256 = ?", (where, sha256))

    def duplicate(self, path: str, sha256: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO duplicates (path, sha256, seen_at) VALUES (?, ?, ?)",
            (path, sha256, _now()),
        )


def _entry(row: tuple[Any, ...]) -> Entry:
    e = Entry(*row)
    e.review_needed = None if e.review_needed is None else bool(e.review_needed)
    return e


def _bool(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return int(value.lower() in ("true", "1"))
    return int(bool(value))


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
