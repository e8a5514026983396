"""Batch progress for people: a live bar on a terminal, periodic plain lines in a log.

A bar's carriage returns turn a log file (cron, systemd, CI) into one unreadable line, so when
the stream is not a terminal we print a dated line every `interval` seconds instead.
"""

from __future__ import annotations

import os
import time
from typing import Any, TextIO

from tqdm import tqdm


class Progress:
    """Receives batch events; this base ignores them (library callers, tests)."""

    def start(self, total: int, skipped: int, duplicates: int) -> None:
        """`total` files are about to be read; the others were done before or are copies."""

    def advance(self, rec: dict[str, Any]) -> None:
        """One file finished (its record in JSON form)."""

    def close(self) -> None: ...


class _Counting(Progress):
    def __init__(self) -> None:
        self.total = self.done = self.pages = self.failed = 0
        self.started = time.monotonic()

    def start(self, total: int, skipped: int, duplicates: int) -> None:
        self.total, self.done, self.pages, self.failed = total, 0, 0, 0
        self.started = time.monotonic()

    def advance(self, rec: dict[str, Any]) -> None:
        self.done += 1
        self.pages += int((rec.get("source") or {}).get("pages") or 0)
        self.failed += rec.get("status") == "failed"

    @property
    def pages_per_second(self) -> float:
        took = time.monotonic() - self.started
        return self.pages / took if took > 0 else 0.0


class BarProgress(_Counting):
    """tqdm over files (its rate and ETA), with pages and pages per second beside it."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self._bar: tqdm[Any] | None = None

    def start(self, total: int, skipped: int, duplicates: int) -> None:
        super().start(total, skipped, duplicates)
        self.close()
        self._bar = tqdm(
            total=total,
            unit="file",
            file=self.stream,
            dynamic_ncols=True,
            desc="letters",
            smoothing=0.1,
        )

    def advance(self, rec: dict[str, Any]) -> None:
        super().advance(rec)
        if self._bar is not None:
            self._bar.set_postfix_str(
                f"{self.pages} pages, {self.pages_per_second:.2f} pages/s, {self.failed} failed",
                refresh=False,
            )
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class LogProgress(_Counting):
    """A plain line at the start, then every `interval` seconds and at the end.

    With interval 0 every file gets its own line (the hot folder, where files are few and slow).
    """

    def __init__(self, stream: TextIO, interval: float = 10.0) -> None:
        super().__init__()
        self.stream = stream
        self.interval = interval
        self._last = 0.0

    def _line(self, text: str) -> None:
        self.stream.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")
        self.stream.flush()

    def start(self, total: int, skipped: int, duplicates: int) -> None:
        super().start(total, skipped, duplicates)
        self._last = time.monotonic()
        if total or skipped or duplicates:
            self._line(f"{total} files to read ({skipped} already done, {duplicates} duplicates)")

    def advance(self, rec: dict[str, Any]) -> None:
        super().advance(rec)
        now = time.monotonic()
        if self.interval == 0:
            src = rec.get("source") or {}
            status = rec.get("status")
            if status != "failed":
                status = f"{status}, {(rec.get('scam') or {}).get('verdict')}"
            self._line(f"{src.get('path')}: {status}")
        elif now - self._last >= self.interval or self.done == self.total:
            self._last = now
            self._line(self._status(now))

    def _status(self, now: float) -> str:
        took = now - self.started
        eta = (self.total - self.done) * took / self.done if self.done else 0.0
        return (
            f"{self.done}/{self.total} files, {self.pages} pages, "
            f"{self.pages_per_second:.2f} pages/s, {self.failed} failed, "
            f"ETA {_duration(eta)}"
        )


def for_stream(stream: TextIO, *, interval: float = 10.0) -> Progress:
    """A bar when a person is watching `stream`, plain lines otherwise."""
    isatty = getattr(stream, "isatty", None)
    return (
        BarProgress(stream)
        if isatty and isatty() and _width(stream)
        else LogProgress(stream, interval)
    )


def _width(stream: TextIO) -> int:
    """Columns of the terminal (0 for a pty nobody sized, where a bar would print nothing)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 0


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
