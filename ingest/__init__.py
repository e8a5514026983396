"""irs-ingest: scanned IRS letters in, typed case records out.

from ingest import read_letter
record = read_letter("letter.pdf")      # a path, the file's bytes, or a PIL image
records = read_file("stack.pdf")        # one record per letter when a scan holds several
for record in read_letters(paths, jobs=4):  # many files in parallel, as they finish
    ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ExitCode, IngestError

if TYPE_CHECKING:
    from .batch import read_letters
    from .pipeline import Options, iter_letters, read_file, read_letter
    from .record import CaseRecord

# Imported when first used (PEP 562): `irs-ingest file` on one letter pays for what it runs,
# not for the batch machinery (process pools, manifests, sinks) behind `read_letters`.
_LAZY = {
    "read_letters": "batch",
    "Options": "pipeline",
    "iter_letters": "pipeline",
    "read_letter": "pipeline",
    "read_file": "pipeline",
    "CaseRecord": "record",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ingest' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CaseRecord",
    "ExitCode",
    "IngestError",
    "Options",
    "iter_letters",
    "read_file",
    "read_letter",
    "read_letters",
]
__version__ = "0.1.0"
