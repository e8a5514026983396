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


class TesseractMissingError(IngestError):
    code = "tesseract_missing"
    exit_code = ExitCode.MISSING_DEPENDENCY
    hint = (
        "Install it: apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd "
        "(then run 'irs-ingest doctor')."
    )
