"""One exception root with stable error codes and exit codes.

The library raises these; the CLI translates them to one line and an exit code in one place.
Messages never carry a full SSN/EIN: they are built from file names and our own words only.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes: stable, documented in the README."""

    OK = 0
    USAGE = 2
    BAD_INPUT = 3
    NO_TEXT = 4
    MISSING_DEPENDENCY = 5
    OCR_FAILED = 6
    BATCH_FAILURES = 7
    OUTPUT = 8
    INTERNAL = 9
    INTERRUPTED = 130


class IngestError(Exception):
    """Root of every error the library raises on purpose."""

    code: str = "internal_error"
    exit_code: ExitCode = ExitCode.INTERNAL
    hint: str = ""

    def __init__(self, message: str, *, page: int | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.page = page
        if hint is not None:
            self.hint = hint

    def one_line(self) -> str:
        """What is wrong and what to do, on one line, for people."""
        return f"{self.message}. {self.hint}".strip() if self.hint else self.message


class BadInputError(IngestError):
    code = "bad_input"
    exit_code = ExitCode.BAD_INPUT


class FileMissingError(BadInputError):
    code = "file_not_found"
    hint = "Check the path."


class UnreadableFileError(BadInputError):
    code = "unreadable_file"
    hint = "Check the file's permissions."


class BadFileNameError(BadInputError):
    code = "bad_file_name"
    hint = "Rename the file: its name is not valid UTF-8 text, so no record could carry it."


class EmptyFileError(BadInputError):
    code = "empty_file"
    hint = "The file has no bytes: re-scan or re-download it."


class UnsupportedTypeError(BadInputError):
    code = "unsupported_type"
    hint = "Supported: PDF, PNG, JPEG, TIFF (detected from the file's content, not its name)."


class CorruptPdfError(BadInputError):
    code = "corrupt_pdf"
    hint = "The PDF is damaged or truncated: re-scan or re-download it."


class EncryptedPdfError(BadInputError):
    code = "encrypted_pdf"
    hint = "Remove the password (for example print to a new PDF) and try again."


class CorruptImageError(BadInputError):
    code = "corrupt_image"
    hint = "The image is damaged or truncated: re-scan it."


class LimitError(BadInputError):
    """A file past one of the limits set in Options: refused before the work, never half-read.

    The limits bound what one hostile or accidental file can cost (time, memory, disk); the
    message says which limit and by how much, the hint which option raises it.
    """

    code = "limit_exceeded"


class FileTooLargeError(LimitError):
    code = "file_too_large"
    hint = "Split the file or raise --max-file-mb."


class TooManyPagesError(LimitError):
    code = "too_many_pages"
    hint = "Split the file into letters or raise --max-pages."


class PageTooLargeError(LimitError):
    code = "page_too_large"
    hint = "A letter page is about 8.5 x 11 inches; re-scan at 300 DPI or raise --max-megapixels."


class PageTooComplexError(LimitError):
    code = "page_too_complex"
    hint = (
        "The page holds far more drawing or text than a letter; print it to a new PDF or scan it."
    )


class MemoryLimitError(LimitError):
    code = "memory_limit"
    hint = "Re-scan at 300 DPI, or raise the worker memory limit (--max-worker-mb)."


class NoTextError(IngestError):
    code = "no_text"
    exit_code = ExitCode.NO_TEXT
    hint = "The page looks blank or is not a letter; check the scan (resolution, contrast)."


class OcrError(IngestError):
    code = "ocr_failed"
    exit_code = ExitCode.OCR_FAILED
    hint = "Tesseract failed on this page; try re-scanning it."


class OcrTimeoutError(OcrError):
    code = "ocr_timeout"
    hint = "The page took too long to read; raise --page-timeout or re-scan at 300 DPI."


class FileTimeoutError(OcrTimeoutError):
    code = "file_timeout"
    hint = "The file took too long to read; raise --file-timeout or split the file."


class TesseractMissingError(IngestError):
    code = "tesseract_missing"
    exit_code = ExitCode.MISSING_DEPENDENCY
    hint = (
        "Install it: apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd "
        "(then run 'irs-ingest doctor')."
    )


class OutputWriteError(IngestError):
    """OUT or its manifest cannot be written (disk full, read-only, gone): the batch stops.

    Everything written before stays valid and the manifest says what is left, so running the
    same command again once the cause is fixed resumes where this run stopped.
    """

    code = "output_unwritable"
    exit_code = ExitCode.OUTPUT
    hint = "Free space or fix the folder's permissions, then run the same command again to resume."
