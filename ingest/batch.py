"""Plain batch: every letter file under a folder to one JSONL line each, failures included.

Parallel over files (one single-threaded tesseract each); records are written and flushed as
they finish, so an interrupted run keeps what it did. Resumability comes with the batch issue.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from .pipeline import Options, read_letter
from .record import CaseRecord

JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
JUNK_SUFFIXES = (".part", ".crdownload", ".tmp", ".download", ".partial")


@dataclass
class BatchResult:
    counts: Counter[str] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    files: int = 0

    @property
    def failed(self) -> int:
        return self.counts["failed"]


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


def run_batch(
    root: Path,
    out: Path,
    *,
    options: Options | None = None,
    on_record: Callable[[CaseRecord], None] | None = None,
) -> BatchResult:
    opts = options or Options()
    files = list(letter_files(root))
    per_file = replace(opts, jobs=1)  # parallel over files; pages of one file in sequence
    result = BatchResult(files=len(files))
    out.parent.mkdir(parents=True, exist_ok=True)

    def one(path: Path) -> CaseRecord:
        return read_letter(path, options=per_file, errors="record")

    with out.open("w", encoding="utf-8") as sink, ThreadPoolExecutor(max(1, opts.jobs)) as pool:
        for record in pool.map(one, files):
            sink.write(json.dumps(record.to_json_dict(), ensure_ascii=False) + "\n")
            sink.flush()
            result.counts[record.status] += 1
            if record.status != "failed":
                result.verdicts[record.scam.verdict] += 1
            if on_record:
                on_record(record)
    return result
