"""Mailroom batch: every letter file under a folder to one record each, resumable and idempotent.

The order of writes is what makes `kill -9` harmless: a record is appended and fsynced to OUT
before the manifest marks its file done, and on every start the manifest is reconciled with what
OUT really holds (a torn last line is cut, a record OUT has but the manifest missed is adopted, a
'done' OUT lacks is redone). Files are keyed by the SHA-256 of their bytes, so a copy under a
second name becomes a duplicate entry pointing at the first, never a second case.

When OUT, the manifest or the quarantine folder cannot be written (disk full, read-only), the
batch stops at once with one OutputWriteError naming the place and the reason; by the order of
writes above, what is on disk is consistent and the same command resumes once the cause is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from . import sources
from .cases import cases_path, write_cases
from .errors import BadFileNameError, ExitCode, IngestError, OutputWriteError
from .executors import Executor, LocalExecutor, Rec, Task, crashed_record, make_executor
from .manifest import Manifest
from .pipeline import Options, failed_record
from .progress import Progress
from .record import CaseRecord
from .sinks import file_row, format_for, open_sink

log = logging.getLogger(__name__)

JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
JUNK_SUFFIXES = (".part", ".crdownload", ".tmp", ".download", ".partial")
# A file queued this many times without a record has killed its worker (or the whole batch)
# each time: the next run records it as failed instead of dying on it again.
MAX_ATTEMPTS = 3


def default_state(out: Path) -> Path:
    """The manifest lives beside OUT, so moving the two together keeps a batch resumable."""
    return out.with_name(out.name + ".manifest.sqlite")


class BatchBusyError(IngestError):
    code = "batch_busy"
    exit_code = ExitCode.USAGE
    hint = "Wait for the other batch to finish, or give this one another --out or --state."


def letter_files(root: Path) -> Iterator[Path]:
    """Files to read under root, sorted, skipping OS junk and never following links out."""
    base = root.resolve()
    for path in sorted(root.rglob("*")):
        name = path.name.lower()
        if name in JUNK_NAMES or name.startswith(("~$", "._")) or name.endswith(JUNK_SUFFIXES):
            continue
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):
                yield path  # broken link or loop: reported as an error record, not skipped
                continue
            if base not in target.parents:
                continue
        if path.is_file() or path.is_symlink():
            yield path


@dataclass
class BatchResult:
    """What one run did, and the state of every letter it looked at (done before or now)."""

    out: Path
    state: Path
    files: int = 0
    processed: int = 0
    skipped: int = 0
    duplicates: int = 0
    superseded: int = 0
    quarantined: int = 0
    pages: int = 0
    letters: int = 0  # records written now: more than files read when stacks were cut
    seconds: float = 0.0
    status: Counter[str] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    review_needed: int = 0
    cases: Path | None = None  # letters linked into cases (JSONL output only)

    @property
    def failed(self) -> int:
        return self.status["failed"]

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        def counts(c: Counter[str]) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "none"

        lines = [
            f"{self.files} files: {self.processed} read now, {self.skipped} already done, "
            f"{self.duplicates} duplicates"
            + (f", {self.superseded} superseded" if self.superseded else ""),
            f"{self.seconds:.1f} s, {self.pages} pages read, {self.pages_per_second:.2f} pages/s",
            *(
                [f"{self.letters} letters in the {self.processed} files read now (stacks cut)"]
                if self.letters > self.processed
                else []
            ),
            f"status: {counts(self.status)}",
            f"verdict: {counts(self.verdicts)}",
            f"stage: {counts(self.stages)}",
            f"review needed: {self.review_needed}",
        ]
        if self.errors:
            lines.append(f"errors: {counts(self.errors)}")
        if self.quarantined:
            lines.append(f"quarantined: {self.quarantined}")
        lines.append(f"-> {self.out} (manifest {self.state})")
        if self.cases:
            lines.append(f"-> {self.cases} (letters linked into cases)")
        return "\n".join(lines)


class Batch:
    """One OUT, its manifest and its workers, open for one run or a whole hot-folder session.

    `executor` is "local", "dask", or an Executor instance, which the batch closes when done.
    Only one Batch may write an OUT at a time (a lock file beside the manifest).
    """

    def __init__(
        self,
        out: Path,
        *,
        fmt: str | None = None,
        state: Path | None = None,
        options: Options | None = None,
        executor: str | Executor = "local",
        scheduler: str | None = None,
        quarantine: Path | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.out = Path(out)
        self.format = format_for(self.out, fmt)
        self.state = Path(state) if state else default_state(self.out)
        self.options = options or Options()
        self.scheduler = scheduler
        self.executor_kind = executor if isinstance(executor, str) else "given"
        self.quarantine = Path(quarantine) if quarantine else None
        self.progress = progress or Progress()
        self._executor = None if isinstance(executor, str) else executor
        with _writing(self.state.parent):
            self._lock = _acquire_lock(self.state.with_name(self.state.name + ".lock"))
        try:
            with _writing(self.out):
                self.sink = open_sink(self.out, self.format)
            with _writing(self.state):
                self.manifest = Manifest(self.state)
                self.manifest.set_meta(out=str(self.out.resolve()), format=self.format)
            present = self.sink.existing()
            with _writing(self.state):
                adopted, lost = self.manifest.reconcile(present)
        except BaseException:
            self._lock.close()
            raise
        if adopted or lost:
            log.warning(
                "%s: reconciled the manifest with OUT (%d records adopted, %d to redo)",
                self.out,
                adopted,
                lost,
            )
        self.present: dict[str, str] = {sha: str(row["path"]) for sha, row in present.items()}

    def __enter__(self) -> Batch:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(cancel=kind is not None)

    def close(self, cancel: bool = False) -> None:
        if self._executor is not None:
            self._executor.close(cancel=cancel)
            self._executor = None
        self.sink.close()
        self.manifest.close()
        self._lock.close()

    def files_under(self, root: Path) -> Iterator[Path]:
        """letter_files(root) less this batch's own files, in case OUT was put inside IN."""
        own = {p.resolve() for p in (self.out, self.state)}
        own |= {p.with_name(p.name + s) for p in own for s in ("-wal", "-shm", ".lock")}
        own |= {cases_path(self.out), cases_path(self.out).with_suffix(".jsonl.tmp")}
        qdir = self.quarantine.resolve() if self.quarantine else None
        for path in letter_files(root):
            try:
                real = path.resolve()
            except (OSError, RuntimeError):  # a link loop: read (and recorded as failed) as is
                real = path
            if real in own or (qdir and (real == qdir or qdir in real.parents)):
                continue
            yield path

    def process(
        self,
        paths: Iterable[Path | str],
        *,
        force: bool = False,
        retry: dict[str, str] | None = None,
        result: BatchResult | None = None,
    ) -> BatchResult:
        """Read what is not done yet; `force` redoes everything, `retry` maps the path of each
        failed file to redo to its old hash (a file now holding other bytes supersedes it)."""
        result = result or BatchResult(self.out, self.state)
        started = time.monotonic()
        runs: list[Task] = []
        seen: dict[str, str] = {}  # sha -> path of its case, for this call
        scope: set[str] = set()
        drop: set[str] = set()
        forget: set[str] = set()
        for item in paths:
            path = str(item)
            result.files += 1
            task = _plan(path, self.options.max_file_bytes)
            sha = task.sha256
            old = retry.get(path) if retry else None
            if old and old != sha:
                drop.add(old)
                forget.add(old)
                result.superseded += 1
            if sha in seen:
                if _same_file(seen[sha], path):  # the case itself, after a copy sorted first
                    result.skipped += 1
                else:
                    self._duplicate(path, sha, seen[sha], result)
                continue
            entry = self.manifest.get(sha)
            redo = force or (retry is not None and entry is not None and entry.status == "failed")
            if entry and entry.done and sha in self.present and not redo:
                scope.add(sha)
                if not _same_file(self.present[sha], path):
                    seen[sha] = self.present[sha]
                    self._duplicate(path, sha, self.present[sha], result)
                    continue
                seen[sha] = path  # where the case's file is now, should it have moved
                result.skipped += 1
                if entry.status == "failed" and self.quarantine and not entry.quarantined:
                    with _writing(self.quarantine):
                        self._quarantine(path, sha, {"errors": _entry_errors(entry)}, result)
                continue
            if redo and entry:
                with _writing(self.state):
                    self.manifest.reset_attempts(sha)
            elif entry and entry.state == "queued" and entry.attempts >= MAX_ATTEMPTS:
                log.warning(
                    "%s: gave up after %d attempts that never finished", path, entry.attempts
                )
                task.record = crashed_record(task)
            seen[sha] = path
            scope.add(sha)
            if sha in self.present:
                drop.add(sha)
            runs.append(task)
        if drop:
            with _writing(self.out):
                self.sink.remove(drop)  # OUT first: a kill now leaves 'done' entries OUT lacks
            for sha in drop:
                self.present.pop(sha, None)
        with _writing(self.state):
            for sha in forget:
                self.manifest.forget(sha)
        executor = self._get_executor() if runs else None  # fail fast, before any progress
        self.progress.start(len(runs), result.skipped, result.duplicates)
        try:
            if executor is not None:
                for task, rec, seconds in executor.run(self._loaded(runs), self.options):
                    self._finish(task, rec, seconds, result, scope)
        except KeyboardInterrupt:
            self._stop_workers()  # what is written stays; what was in flight is redone later
            raise
        finally:
            self.progress.close()
            result.seconds += time.monotonic() - started
            self._tally(result, scope)
        if self.format == "jsonl" and self.out.exists():
            with _writing(self.out):
                result.cases = write_cases(self.out)
        return result

    def retry(self, *, result: BatchResult | None = None) -> BatchResult:
        """Read again only the files whose record says failed."""
        failed = {e.path: e.sha256 for e in self.manifest.failed() if e.sha256 in self.present}
        return self.process(sorted(failed), retry=failed, result=result)

    def _stop_workers(self) -> None:
        if self._executor is not None:
            self._executor.close(cancel=True)
            self._executor = None

    def _get_executor(self) -> Executor:
        if self._executor is None:
            self._executor = make_executor(
                self.executor_kind, jobs=self.options.jobs, scheduler=self.scheduler
            )
        return self._executor

    def _loaded(self, runs: list[Task]) -> Iterator[Task]:
        """Read each file's bytes just before a worker is free for it (memory stays bounded)."""
        for task in runs:
            if task.record is None:
                try:
                    data = sources.read_bytes(Path(task.path), self.options.max_file_bytes)
                except IngestError as exc:  # gone or unreadable since it was listed
                    task.record = failed_record(None, task.path, exc).to_json_dict()
                else:
                    sha = hashlib.sha256(data).hexdigest()
                    if sha != task.sha256:
                        log.info("%s changed since it was listed; reading the new bytes", task.path)
                        task.sha256 = sha
                    task.data = data
                    with _writing(self.state):
                        self.manifest.queued(sha, task.path)
            yield task

    def _finish(
        self, task: Task, rec: Rec, seconds: float, result: BatchResult, scope: set[str]
    ) -> None:
        task.data = None
        recs = rec if isinstance(rec, list) else [rec]
        sha = str(recs[0]["source"]["sha256"])
        scope.add(sha)
        if not _same_file(self.present.get(sha, task.path), task.path):  # now a copy
            self._duplicate(task.path, sha, self.present[sha], result)
            return
        with _writing(self.out):
            self.sink.write_all(recs)  # durable before the manifest says done
        self.present[sha] = task.path
        with _writing(self.state):
            self.manifest.done(file_row(recs), seconds)
        result.processed += 1
        result.letters += len(recs)
        result.pages += int(recs[0]["source"].get("pages") or 0)
        if recs[0]["status"] == "failed" and self.quarantine:
            with _writing(self.quarantine):
                self._quarantine(task.path, sha, recs[0], result)
        self.progress.advance(recs[0])  # progress counts files and their pages

    def _duplicate(self, path: str, sha: str, of_path: str, result: BatchResult) -> None:
        with _writing(self.state):
            self.manifest.duplicate(path, sha)
        with _writing(self.out):
            self.sink.write_duplicate(path, sha, of_path)
        result.duplicates += 1

    def _quarantine(self, path: str, sha: str, rec: Rec, result: BatchResult) -> None:
        """Copy a failed file aside with a JSON sidecar saying why; the original stays put."""
        assert self.quarantine is not None
        self.quarantine.mkdir(parents=True, exist_ok=True)
        src = Path(path)
        dest = self.quarantine / src.name
        if dest.exists() and _sha256_of(dest) != sha:
            dest = self.quarantine / f"{src.stem}.{sha[:12]}{src.suffix}"
        try:
            shutil.copyfile(src, dest)
            copied = True
        except OSError:
            copied = False
        sidecar = {
            "path": path,
            "sha256": sha,
            "status": "failed",
            "copied": copied,
            "errors": rec.get("errors") or [],
            "out": str(self.out),
            "quarantined_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        side = dest.with_name(dest.name + ".json")
        tmp = side.with_name(side.name + ".tmp")
        tmp.write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, side)
        self.manifest.quarantined(sha, str(dest))
        result.quarantined += 1

    def _tally(self, result: BatchResult, scope: set[str]) -> None:
        for e in self.manifest.entries(scope):
            if not e.done:
                continue
            result.status[e.status or "unknown"] += 1
            if e.status != "failed":
                result.verdicts[e.verdict or "unknown"] += 1
                result.stages[e.stage or "unknown"] += 1
            result.review_needed += bool(e.review_needed)
            if e.error_code:
                result.errors[e.error_code] += 1


def run_batch(
    root: Path,
    out: Path,
    *,
    options: Options | None = None,
    fmt: str | None = None,
    state: Path | None = None,
    force: bool = False,
    quarantine: Path | None = None,
    executor: str | Executor = "local",
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Every letter under root into OUT; what an earlier run finished is skipped."""
    with Batch(
        out,
        fmt=fmt,
        state=state,
        options=options,
        executor=executor,
        scheduler=scheduler,
        quarantine=quarantine,
        progress=progress,
    ) as batch:
        return batch.process(batch.files_under(root), force=force)


def retry_failed(
    out: Path,
    *,
    options: Options | None = None,
    fmt: str | None = None,
    state: Path | None = None,
    quarantine: Path | None = None,
    executor: str | Executor = "local",
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Read again the files an earlier batch into OUT recorded as failed."""
    with Batch(
        out,
        fmt=fmt,
        state=state,
        options=options,
        executor=executor,
        scheduler=scheduler,
        quarantine=quarantine,
        progress=progress,
    ) as batch:
        return batch.retry()


def read_letters(
    paths: Iterable[str | os.PathLike[str]],
    *,
    jobs: int | None = None,
    options: Options | None = None,
) -> Iterator[CaseRecord]:
    """Records for many files, in parallel, yielded as they finish (not in input order).

    Each record's `source.path` says which file it is (a stack gives one record per letter,
    `source.page_range` saying where); failures come back as failed records.
    No manifest and no output file: that is what `run_batch` adds. With jobs > 1 the workers
    are new processes, so a calling script needs the usual `if __name__ == "__main__":` guard.
    """
    opts = options or Options()
    executor = LocalExecutor(jobs or opts.jobs)
    tasks = (_load(str(p), opts.max_file_bytes) for p in paths)
    try:
        for _, rec, _ in executor.run(tasks, opts):
            for one in rec if isinstance(rec, list) else [rec]:
                yield CaseRecord.model_validate(one)
    finally:
        executor.close(cancel=True)


def _plan(path: str, max_bytes: int | None = None) -> Task:
    """Hash a file to decide what to do with it; its bytes are read again when it runs."""
    task = _load(path, max_bytes)
    task.data = None
    return task


def _load(path: str, max_bytes: int | None = None) -> Task:
    shown = sources.display_path(path)
    if shown != path:  # bytes that are not UTF-8: no record, manifest or log line could hold it
        error = BadFileNameError(f"The file name is not valid UTF-8: {shown}")
        rec = failed_record(None, shown, error).to_json_dict()
        return Task(shown, rec["source"]["sha256"], record=rec)
    try:
        data = sources.read_bytes(Path(path), max_bytes)
    except IngestError as exc:
        rec = failed_record(None, path, exc).to_json_dict()
        return Task(path, rec["source"]["sha256"], record=rec)
    return Task(path, hashlib.sha256(data).hexdigest(), data=data)


@contextlib.contextmanager
def _writing(where: Path) -> Iterator[None]:
    """A failed write to OUT, the manifest or the quarantine becomes one clear, resumable error."""
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise OutputWriteError(
            f"Cannot write {where} ({reason}); the batch stopped and what it wrote is kept"
        ) from None


def _same_file(case_path: str, path: str) -> bool:
    """Whether `path` is the case's own file (perhaps spelt differently, or moved there) rather
    than a second copy: a copy needs the case's file to still exist elsewhere."""
    if case_path == path:
        return True
    try:
        return os.path.samefile(case_path, path)
    except OSError:
        return not os.path.lexists(case_path)


def _sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _entry_errors(entry: Any) -> list[dict[str, Any]]:
    if not entry.error_code:
        return []
    return [{"code": entry.error_code, "message": entry.error_message, "page": entry.error_page}]


class _Lock:
    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh

    def close(self) -> None:
        self.fh.close()  # closing the file releases the lock


def _acquire_lock(path: Path) -> _Lock:
    """Exclusive, non-blocking, released by the OS if the process dies (kill -9 included)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = path.open("a", encoding="utf-8")
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, the user keeps one batch per OUT
        return _Lock(fh)
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise BatchBusyError(f"Another batch is writing to this output (lock {path})") from None
    with contextlib.suppress(OSError):
        fh.truncate(0)
        fh.write(f"{os.getpid()}\n")
        fh.flush()
    return _Lock(fh)
