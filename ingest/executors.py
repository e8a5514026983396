"""Where letters are read: in this process, in a pool of local processes, or on a Dask cluster.

Processes rather than threads: tesseract runs in its own process either way, but the Python
around it (image preparation, reading tesseract's output, spaCy, classifiers) serialises on the
GIL. On 10 one-page 300-DPI letters with 2 warmed workers on a 2-core machine shared with other
work, processes read 1.53-1.58 pages/s in their best runs and threads 1.09-1.24.
Workers receive the file's bytes, not its path, so the record's hash is of exactly what was read
and a remote Dask worker needs no access to the mailroom's disk.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import Any, Protocol

from . import forkserver, ocr
from .errors import ExitCode, FileTimeoutError, IngestError, TesseractMissingError
from .pipeline import Options, failed_record, read_file

log = logging.getLogger(__name__)

# A record in its JSON form (what crosses process boundaries); a file that held several letters
# comes back as the list of their records, written together.
Rec = dict[str, Any] | list[dict[str, Any]]
Worker = Callable[[str, bytes, Options], tuple[Rec, float]]


class InternalError(IngestError):
    """A bug met while reading one letter: recorded for that letter, the batch goes on."""

    code = "internal_error"


class WorkerCrashedError(IngestError):
    code = "worker_crashed"
    hint = "The worker reading this file died (crash or out of memory); check the file."


class DaskMissingError(IngestError):
    code = "dask_missing"
    exit_code = ExitCode.MISSING_DEPENDENCY
    hint = "Install it: pip install 'irs-ingest[dask]'."


class SchedulerError(IngestError):
    code = "scheduler_unreachable"
    exit_code = ExitCode.USAGE


@dataclass(slots=True)
class Task:
    """One file to read; `record` set means there is nothing to run (it failed before)."""

    path: str
    sha256: str
    data: bytes | None = None
    record: Rec | None = None
    tries: int = 0


Finished = tuple[Task, Rec, float]


def warm() -> None:
    """Load the heavy, cached objects once per worker instead of on its first letter."""
    from extractors.base import labeler

    from . import ocr
    from .catalog import load_catalog

    ocr.configure(1)
    labeler()
    load_catalog()
    try:  # one tiny letter through the rest warms whatever else caches itself lazily
        from .assemble import assemble
        from .document import Document, Line, Page, Word

        text = ["Notice", "CP14", "Internal", "Revenue", "Service", "amount", "due"]
        words = [
            Word(w, (72.0 + 40 * i, 72.0, 100.0 + 40 * i, 84.0), 1.0, "text")
            for i, w in enumerate(text)
        ]
        assemble(Document([Page(1, 612.0, 792.0, [Line(words)], "text")]))
    except Exception:  # noqa: BLE001 - warming is an optimisation, never a failure
        log.debug("warm-up letter failed", exc_info=True)


def _init_process_worker(max_memory: int | None = None) -> None:
    # Ctrl-C goes to the whole process group: the parent decides how to stop, not each worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent stops workers with SIGTERM (Ctrl-C, an error): leave at once; unwinding kills
    # the tesseract in hand (ingest.ocr) and removes the letter's private temporary folder.
    signal.signal(signal.SIGTERM, _leave)
    limit_memory(max_memory)
    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        threading.Thread(target=_exit_with_parent, args=(parent.sentinel,), daemon=True).start()
    warm()


class _Stopped(BaseException):
    """Raised in a worker told to stop while it reads a letter: unwinding cleans up."""


_reading = False  # whether this worker is inside read_task


def _leave(signum: int, frame: object) -> None:
    if _reading:
        raise _Stopped  # read_task exits once the letter's tesseract and folder are gone
    os._exit(128 + signum)


def limit_memory(max_bytes: int | None) -> None:
    """Cap this process's memory (RLIMIT_DATA: heap and private mappings, not shared libraries).

    Children inherit it, so the tesseract a worker starts is bounded the same way. Past it,
    Python raises MemoryError (the letter fails with `memory_limit`) or a native library aborts
    (the worker dies and the letter fails with `worker_crashed`); the batch goes on either way.
    RLIMIT_DATA rather than RLIMIT_AS: address-space reservations (thread stacks, malloc arenas,
    one per OpenBLAS thread per core) would otherwise count against the limit.
    """
    if not max_bytes:
        return
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        soft = max_bytes if hard == resource.RLIM_INFINITY else min(max_bytes, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
    except (ImportError, ValueError, OSError) as exc:  # not POSIX, or not allowed here
        log.warning("cannot limit worker memory: %s", exc)


def _exit_with_parent(sentinel: int) -> None:
    """A batch killed with -9 cannot shut its pool down: workers must notice and leave.

    The tesseract in hand runs in a session of its own and would outlive us: killed first. (A
    batch stopping on Ctrl-C also ends here when it exits before our SIGTERM handler has run.)
    """
    multiprocessing.connection.wait([sentinel])
    ocr.stop_all()
    os._exit(0)


def read_task(path: str, data: bytes, options: Options) -> tuple[Rec, float]:
    """Read one file's bytes into its records (JSON form, picklable) and the seconds it took."""
    global _reading
    start = time.perf_counter()
    _reading = True
    try:
        with _hard_deadline(options.file_timeout):
            records = read_file(data, options=options, errors="record")
    except _Stopped:
        # Not a result: the pool would send it back and hand this worker the next letter.
        os._exit(128 + signal.SIGTERM)
    except TesseractMissingError:
        raise  # nothing else will work either: stop the batch
    except FileTimeoutError as exc:  # the hard deadline, just as read_file returned
        records = [failed_record(data, path, exc)]
    except Exception as exc:  # noqa: BLE001 - one bad letter must not stop the batch
        # Only the type: an exception's text may quote the letter, and so a full SSN.
        err = InternalError(f"Unexpected {type(exc).__name__} while reading (a bug: report it)")
        records = [failed_record(data, path, err)]
    finally:
        _reading = False
    for record in records:
        record.source.path = path
    return [r.to_json_dict() for r in records], time.perf_counter() - start


@contextlib.contextmanager
def _hard_deadline(file_timeout: float) -> Iterator[None]:
    """Stop whatever Python is doing a little past the file's deadline.

    The pipeline's own deadlines stop OCR; this one stops the rest, such as pdfminer parsing a
    PDF built to take hours. It raises FileTimeoutError in this thread (the tesseract in hand is
    killed on the way out, ingest.ocr), then again every few seconds should something swallow it.
    Signals reach only a process's main thread: elsewhere (a Dask worker thread) it does nothing,
    and it never takes over an alarm the calling program set for itself.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or not hasattr(signal, "setitimer")
        or signal.getitimer(signal.ITIMER_REAL)[0] > 0
        or signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, None)
    ):  # not the main thread, not POSIX, or the caller's own alarm is in use: leave it be
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise FileTimeoutError(f"Reading the file took longer than {file_timeout:g} s; stopped")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, file_timeout + min(10.0, file_timeout / 2), 5.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def crashed_record(task: Task) -> Rec:
    record = failed_record(
        None, task.path, WorkerCrashedError("The worker died while reading this file")
    )
    record.id = record.source.sha256 = task.sha256  # the bytes are known, just not readable
    return record.to_json_dict()


class Executor(Protocol):
    jobs: int

    def run(self, tasks: Iterable[Task], options: Options) -> Iterator[Finished]:
        """Read tasks, pulling more only as workers free up; yield each as it finishes."""
        ...

    def close(self, cancel: bool = False) -> None: ...


class LocalExecutor:
    """`jobs` worker processes (or this process when jobs is 1), each warmed once.

    A worker that dies (segfault, out-of-memory kill) breaks the whole pool; the files that were
    in flight are then re-run one at a time, so only the file that kills a worker on its own is
    recorded as failed.
    """

    def __init__(self, jobs: int, *, worker: Worker = read_task, in_flight: int = 2) -> None:
        self.jobs = max(1, jobs)
        self.worker = worker
        self.limit = self.jobs * max(1, in_flight)
        self._pool: ProcessPoolExecutor | None = None
        self._warm = False
        self._max_memory: int | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.jobs,
            mp_context=forkserver.context(),
            initializer=_init_process_worker,
            initargs=(self._max_memory,),
        )

    def run(self, tasks: Iterable[Task], options: Options) -> Iterator[Finished]:
        per_file = replace(options, jobs=1)  # parallel over files; one tesseract per worker
        if self.jobs == 1:
            yield from self._run_here(tasks, per_file)
            return
        self._max_memory = options.max_worker_memory
        if self._pool is None:
            self._pool = self._new_pool()
        source = iter(tasks)
        suspects: deque[Task] = deque()
        pending: dict[Future[tuple[Rec, float]], Task] = {}
        while True:
            # After a crash the files that were in flight run alone, so the next crash names
            # its culprit instead of failing innocent neighbours.
            while len(pending) < (1 if suspects or _any_suspect(pending) else self.limit):
                task = suspects.popleft() if suspects else next(source, None)
                if task is None:
                    break
                if task.record is not None:
                    yield task, task.record, 0.0
                    continue
                assert task.data is not None
                pending[self._pool.submit(self.worker, task.path, task.data, per_file)] = task
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            crashed: list[Task] = []
            for future in finished:
                task = pending.pop(future)
                try:
                    rec, seconds = future.result()
                except BrokenProcessPool:
                    crashed.append(task)
                    continue
                yield task, rec, seconds
            if not crashed:
                continue
            wait(pending, timeout=10)  # a broken pool fails every future it held
            for future, task in list(pending.items()):
                del pending[future]
                if future.done() and future.exception() is None:
                    yield task, *future.result()
                else:
                    crashed.append(task)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            if len(crashed) == 1:
                yield crashed[0], crashed_record(crashed[0]), 0.0
                continue
            log.warning(
                "a worker died; re-reading the %d files it may have held, one at a time",
                len(crashed),
            )
            for task in crashed:
                task.tries += 1
            suspects.extend(crashed)

    def _run_here(self, tasks: Iterable[Task], options: Options) -> Iterator[Finished]:
        if not self._warm:
            warm()
            self._warm = True
        for task in tasks:
            if task.record is not None:
                yield task, task.record, 0.0
                continue
            assert task.data is not None
            rec, seconds = self.worker(task.path, task.data, options)
            yield task, rec, seconds

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            # Cancelling (Ctrl-C, an error) also stops the letters in hand instead of waiting
            # for them: nothing of theirs was written, so the next run reads them again.
            workers = list((getattr(self._pool, "_processes", None) or {}).values())
            self._pool.shutdown(wait=not cancel, cancel_futures=cancel)
            self._pool = None
            if cancel:
                for proc in workers:
                    with contextlib.suppress(Exception):
                        proc.terminate()


def _any_suspect(pending: dict[Any, Task]) -> bool:
    return any(t.tries for t in pending.values())


class DaskExecutor:
    """The same worker function on a dask.distributed cluster; a LocalCluster when no scheduler.

    Bytes go to the cluster with `scatter`, so workers need irs-ingest and tesseract installed
    but no access to the input folder.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        jobs: int = 1,
        processes: bool = True,
        worker: Worker = read_task,
    ) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise DaskMissingError("The Dask executor needs dask.distributed") from None
        self.worker = worker
        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise SchedulerError(
                    f"Cannot reach the Dask scheduler at {scheduler}: {exc}"
                ) from None
        else:
            self._cluster = LocalCluster(
                n_workers=max(1, jobs),
                threads_per_worker=1,
                processes=processes,
                dashboard_address=None,
            )
            self.client = Client(self._cluster)
        self.jobs = max(1, sum(self.client.nthreads().values()))
        if not self.client.nthreads():
            log.warning("the Dask cluster has no workers yet; letters wait until one joins")
        try:
            self.client.run(warm)  # also a preflight: workers need irs-ingest importable
        except Exception as exc:  # noqa: BLE001 - whatever a worker raised, say what to do
            self.close()
            raise SchedulerError(
                f"Dask workers cannot load irs-ingest ({type(exc).__name__}: {exc})",
                hint="Install irs-ingest and tesseract on every worker.",
            ) from None

    def run(self, tasks: Iterable[Task], options: Options) -> Iterator[Finished]:
        from dask.distributed import as_completed
        from distributed.scheduler import KilledWorker

        per_file = replace(options, jobs=1)
        source = iter(tasks)
        limit = self.jobs * 2
        pending: dict[Any, Task] = {}
        queue = as_completed()

        def fill() -> Iterator[Finished]:
            while len(pending) < limit:
                task = next(source, None)
                if task is None:
                    return
                if task.record is not None:
                    yield task, task.record, 0.0
                    continue
                data = self.client.scatter(task.data, hash=False)
                future = self.client.submit(self.worker, task.path, data, per_file, pure=False)
                pending[future] = task
                queue.add(future)

        yield from fill()
        while pending:
            future = next(queue)
            task = pending.pop(future)
            try:
                rec, seconds = future.result()
            except KilledWorker:
                rec, seconds = crashed_record(task), 0.0
            finally:
                future.release()
            yield task, rec, seconds
            yield from fill()

    def close(self, cancel: bool = False) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(kind: str = "local", *, jobs: int = 1, scheduler: str | None = None) -> Executor:
    if kind == "dask" or scheduler:
        return DaskExecutor(scheduler, jobs=jobs)
    if kind != "local":
        raise IngestError(f"Unknown executor {kind!r} (use local or dask)")
    return LocalExecutor(jobs)
