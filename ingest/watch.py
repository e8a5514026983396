"""Hot folder: read letters as scanners and network shares drop them in.

Polling, not inotify: it works the same on network shares (where change events often never
arrive) and needs no dependency. A file is read only once its size and modification time have
stayed the same for `settle` seconds, because scanners and SMB copies write a file in pieces and
a half-written PDF would be recorded as corrupt.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .batch import Batch, BatchResult

log = logging.getLogger(__name__)


def watch(
    root: Path,
    batch: Batch,
    *,
    interval: float = 2.0,
    settle: float = 5.0,
    once: bool = False,
    max_idle: float | None = None,
    stop: threading.Event | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> BatchResult:
    """Poll `root` every `interval` seconds and read each file once it has settled.

    Stops on Ctrl-C or SIGTERM (after the file in hand is recorded), when `stop` is set, with
    `once` when everything that was there has been read, or after `max_idle` seconds with
    nothing new. Files a run already finished are skipped by hash, so restarting is cheap.
    """
    result = BatchResult(batch.out, batch.state)
    seen: dict[str, tuple[int, int, float]] = {}  # path -> size, mtime_ns, unchanged since
    handled: dict[str, tuple[int, int]] = {}
    idle_since = time.monotonic()
    with _sigterm_as_interrupt():
        try:
            while not (stop and stop.is_set()):
                ready, waiting = _poll(root, batch, seen, handled, settle)
                if ready:
                    batch.process(ready, result=result)
                    for path in ready:
                        size, mtime, _ = seen.pop(str(path))
                        handled[str(path)] = (size, mtime)
                    idle_since = time.monotonic()
                    continue  # poll again at once: more may have arrived meanwhile
                if once and not waiting:
                    break
                idle = time.monotonic() - idle_since
                if max_idle is not None and not waiting and idle >= max_idle:
                    break
                sleep(interval)
        except KeyboardInterrupt:
            log.info("stopping the watch on %s", root)
    return result


def _poll(
    root: Path,
    batch: Batch,
    seen: dict[str, tuple[int, int, float]],
    handled: dict[str, tuple[int, int]],
    settle: float,
) -> tuple[list[Path], int]:
    """Files that have settled, and how many are still changing."""
    now = time.monotonic()
    ready: list[Path] = []
    waiting = 0
    present: set[str] = set()
    for path in batch.files_under(root):
        key = str(path)
        present.add(key)
        try:
            st = path.stat()
        except OSError:  # vanished between listing and stat, or a broken link
            continue
        sig = (st.st_size, st.st_mtime_ns)
        if handled.get(key) == sig:
            continue
        previous = seen.get(key)
        if previous is None or previous[:2] != sig:
            seen[key] = (*sig, now)
        if now - seen[key][2] >= settle:
            ready.append(path)
        else:
            waiting += 1
    for gone in [k for k in seen if k not in present]:
        del seen[gone]
    for gone in [k for k in handled if k not in present]:
        del handled[gone]
    return ready, waiting


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """`systemctl stop` sends SIGTERM: stop as cleanly as on Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
