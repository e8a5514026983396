"""irs-ingest: scanned IRS letters in, typed case records out.

from ingest import read_letter
record = read_letter("letter.pdf")      # a path, the file's bytes, or a PIL image
for record in read_letters(paths, jobs=4):  # many files in parallel, as they finish
    ...
"""

from .batch import read_letters
from .errors import ExitCode, IngestError
from .pipeline import Options, iter_letters, read_letter
from .record import CaseRecord

__all__ = [
    "CaseRecord",
    "ExitCode",
    "IngestError",
    "Options",
    "iter_letters",
    "read_letter",
    "read_letters",
]
__version__ = "0.1.0"
