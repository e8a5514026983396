"""Command line: parses options, calls the library, and turns errors into one line + exit code."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from .errors import ExitCode, IngestError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES_HELP = """
Exit codes: 0 ok; 2 usage error; 3 bad input (missing, empty, corrupt, encrypted or unsupported
file); 4 no readable text; 5 tesseract missing; 6 OCR failed or timed out; 7 batch finished but
some files failed; 9 internal error; 130 interrupted.
"""


def _errors_to_exit(func: F) -> F:
    """The one place library errors become a message and an exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except IngestError as exc:
            click.echo(f"irs-ingest: {exc.one_line()}", err=True)
            sys.exit(int(exc.exit_code))
        except KeyboardInterrupt:
            click.echo("irs-ingest: interrupted", err=True)
            sys.exit(int(ExitCode.INTERRUPTED))

    return wrapper  # type: ignore[return-value]


def _options(page_timeout: float, jobs: int | None, today: dt.datetime | None) -> Any:
    from .pipeline import Options

    opts = Options(page_timeout=page_timeout, today=today.date() if today else None)
    if jobs:
        opts.jobs = jobs
    return opts


_timeout_opt = click.option(
    "--page-timeout",
    default=120.0,
    show_default=True,
    help="Seconds before OCR of one page is killed.",
)
_jobs_opt = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Parallel tesseract processes [default: number of cores].",
)
_today_opt = click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Date to count days left from (YYYY-MM-DD) [default: today].",
)


@click.group(epilog=EXIT_CODES_HELP)
@click.version_option(package_name="irs-ingest")
def main() -> None:
    """Read scanned IRS letters into case records: what the letter is, what it demands, by
    when, whether it looks like a scam, and what to do next."""


@main.command("file", epilog=EXIT_CODES_HELP)
@click.argument("letter", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the case record as JSON.")
@_timeout_opt
@_jobs_opt
@_today_opt
@_errors_to_exit
def file_cmd(
    letter: Path, as_json: bool, page_timeout: float, jobs: int | None, today: dt.datetime | None
) -> None:
    """Read one LETTER (PDF, PNG, JPEG or TIFF) and print a summary or its record."""
    from .pipeline import read_letter
    from .report import summary

    record = read_letter(letter, options=_options(page_timeout, jobs, today))
    if as_json:
        click.echo(record.model_dump_json(indent=2))
    else:
        click.echo(summary(record))


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the records (JSON Lines, one record per letter).",
)
@_timeout_opt
@_jobs_opt
@_today_opt
@_errors_to_exit
def batch(
    folder: Path, out: Path, page_timeout: float, jobs: int | None, today: dt.datetime | None
) -> None:
    """Read every letter file under FOLDER into OUT, one JSON record per line.

    A file that cannot be read gets a record with status "failed" and its error; the batch goes
    on. The exit code is 7 when any file failed.
    """
    import time

    from .batch import letter_files, run_batch
    from .record import CaseRecord

    total = sum(1 for _ in letter_files(folder))
    done = 0
    start = time.monotonic()

    def tick(record: CaseRecord) -> None:
        nonlocal done
        done += 1
        status = record.status if record.status != "ok" else record.scam.verdict
        click.echo(f"[{done}/{total}] {record.source.path}: {status}", err=True)

    result = run_batch(folder, out, options=_options(page_timeout, jobs, today), on_record=tick)
    took = time.monotonic() - start
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items())) or "no files"
    verdicts = ", ".join(f"{k} {v}" for k, v in sorted(result.verdicts.items()))
    click.echo(
        f"{result.files} files in {took:.1f} s: {counts}; verdicts: {verdicts}; -> {out}", err=True
    )
    if result.failed:
        sys.exit(int(ExitCode.BATCH_FAILURES))


@main.command()
def schema() -> None:
    """Print the JSON Schema of the case record."""
    from .record import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@main.command()
def doctor() -> None:
    """Check that tesseract and its languages are installed, and say how to fix what is not."""
    from .ocr import probe

    info = probe()
    ok = True
    if info.path is None:
        click.echo(
            "tesseract: NOT FOUND. Install: apt-get install tesseract-ocr "
            "tesseract-ocr-eng tesseract-ocr-osd"
        )
        sys.exit(int(ExitCode.MISSING_DEPENDENCY))
    click.echo(f"tesseract: {info.version or 'unknown version'} at {info.path}")
    click.echo(f"languages: {', '.join(info.languages) or 'none'}")
    for lang, pkg in (("eng", "tesseract-ocr-eng"), ("osd", "tesseract-ocr-osd")):
        if lang not in info.languages:
            ok = False
            click.echo(f"missing language '{lang}': apt-get install {pkg}")
    click.echo("ok" if ok else "some parts are missing (see above)")
    if not ok:
        sys.exit(int(ExitCode.MISSING_DEPENDENCY))


@main.command("eval")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_jobs_opt
@_errors_to_exit
def eval_cmd(folder: Path, as_json: bool, jobs: int | None) -> None:
    """Measure accuracy on a labelled FOLDER (letters plus labels.jsonl from the generator)."""
    from .evaluate import evaluate, format_report

    if not (folder / "labels.jsonl").is_file():
        raise click.UsageError(
            f"{folder} has no labels.jsonl (make one with 'irs-ingest fixtures generate')"
        )

    def progress(i: int, n: int) -> None:
        if i % 10 == 0 or i == n:
            click.echo(f"evaluated {i}/{n}", err=True)

    report = evaluate(folder, options=_options(120.0, jobs, None), progress=progress)
    click.echo(json.dumps(report, indent=2, default=str) if as_json else format_report(report))


@main.group()
def fixtures() -> None:
    """Synthetic labelled letters for testing and measuring accuracy."""


@fixtures.command("generate")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--count", "-n", default=200, show_default=True, help="How many letters.")
@click.option(
    "--seed", "-s", default=1, show_default=True, help="Random seed (same seed, same letters)."
)
def fixtures_generate(out: Path, count: int, seed: int) -> None:
    """Write COUNT synthetic letters (genuine and scam) plus labels.jsonl into OUT."""
    from fixtures.generator import generate

    labels = generate(out, count, seed)
    click.echo(f"wrote {len(labels)} letters and labels.jsonl to {out}", err=True)


if __name__ == "__main__":
    main()
