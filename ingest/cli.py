"""Command line: parses options, calls the library, and turns errors into one line + exit code."""

from __future__ import annotations

import datetime as dt
import json
import os
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
file, or past a limit); 4 no readable text; 5 tesseract missing; 6 OCR failed or timed out; 7 batch
finished but some files failed; 8 output cannot be written (disk full, read-only; re-run to
resume); 9 internal error; 130 interrupted.
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


def _options(
    page_timeout: float,
    jobs: int | None,
    today: dt.datetime | None,
    no_split: bool = False,
    **limits: Any,
) -> Any:
    from .pipeline import Options

    opts = Options(
        page_timeout=page_timeout, today=today.date() if today else None, split=not no_split
    )
    if jobs:
        opts.jobs = jobs
    _apply_limits(opts, **limits)
    return opts


def _apply_limits(
    opts: Any,
    file_timeout: float | None = None,
    max_pages: int | None = None,
    max_file_mb: float | None = None,
    max_megapixels: float | None = None,
    max_worker_mb: int | None = None,
) -> None:
    """Only the limits given on the command line; Options holds the defaults."""
    if file_timeout is not None:
        opts.file_timeout = file_timeout
    if max_pages is not None:
        opts.max_pages = max_pages
    if max_file_mb is not None:
        opts.max_file_bytes = int(max_file_mb * 1_000_000)
    if max_megapixels is not None:
        opts.max_page_pixels = int(max_megapixels * 1_000_000)
    if max_worker_mb is not None:
        opts.max_worker_memory = max_worker_mb * 2**20 if max_worker_mb > 0 else None


def _limit_options(func: F) -> F:
    """Limits on what one file may cost; past one, the file gets an error with a stable code."""
    options = [
        click.option(
            "--file-timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=None,
            help="Seconds before reading one file is stopped (its tesseract killed) "
            "[default: 600].",
        ),
        click.option(
            "--max-pages",
            type=click.IntRange(min=1),
            default=None,
            help="Refuse files with more pages than this [default: 150].",
        ),
        click.option(
            "--max-file-mb",
            type=click.FloatRange(min=0, min_open=True),
            default=None,
            help="Refuse files larger than this many megabytes [default: 200].",
        ),
        click.option(
            "--max-megapixels",
            type=click.FloatRange(min=0, min_open=True),
            default=None,
            help="Refuse pages larger than this (PDF pages at 300 DPI) [default: 120].",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


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
_split_opt = click.option(
    "--no-split",
    is_flag=True,
    help="Take each file as one letter. By default a file holding several letters (a stack "
    "through a sheet-fed scanner) gives one record per letter, its id ending in the page range.",
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
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the case record as JSON (a list of records when the file held several letters).",
)
@_timeout_opt
@_jobs_opt
@_today_opt
@_split_opt
@_limit_options
@_errors_to_exit
def file_cmd(
    letter: Path,
    as_json: bool,
    page_timeout: float,
    jobs: int | None,
    today: dt.datetime | None,
    no_split: bool,
    **limits: Any,
) -> None:
    """Read one LETTER (PDF, PNG, JPEG or TIFF) and print a summary or its record."""
    from .pipeline import read_file
    from .report import summary

    records = read_file(letter, options=_options(page_timeout, jobs, today, no_split, **limits))
    if as_json:
        if len(records) == 1:
            click.echo(records[0].model_dump_json(indent=2))
        else:
            click.echo("[\n" + ",\n".join(r.model_dump_json(indent=2) for r in records) + "\n]")
        return
    for k, record in enumerate(records, 1):
        if len(records) > 1:
            first, last = record.source.page_range or [0, 0]
            if k > 1:
                click.echo()
            click.echo(f"== Letter {k} of {len(records)}: pages {first}-{last} ==")
        click.echo(summary(record))


def _batch_options(func: F) -> F:
    """Options shared by batch, retry and watch: where records go and how files are read."""
    options = [
        click.option(
            "--out",
            "-o",
            required=True,
            type=click.Path(dir_okay=False, path_type=Path),
            help="Where the records go; the format follows the extension (.jsonl, .csv, "
            ".sqlite) unless --format says.",
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(["jsonl", "csv", "sqlite"]),
            default=None,
            help="Output format [default: from OUT's extension, else jsonl].",
        ),
        click.option(
            "--state",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="The manifest that makes re-runs resume [default: OUT.manifest.sqlite].",
        ),
        click.option(
            "--quarantine",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Copy each failed file here with a JSON sidecar saying why.",
        ),
        click.option(
            "--executor",
            type=click.Choice(["local", "dask"]),
            default="local",
            show_default=True,
            help="local: worker processes here; dask: a dask.distributed cluster "
            "(pip install 'irs-ingest[dask]').",
        ),
        click.option(
            "--scheduler",
            default=None,
            metavar="ADDRESS",
            help="Dask scheduler, e.g. tcp://host:8786 [default: start a local cluster].",
        ),
        _timeout_opt,
        _jobs_opt,
        _today_opt,
        _split_opt,
        _limit_options,
        click.option(
            "--max-worker-mb",
            type=click.IntRange(min=0),
            default=None,
            help="Memory each worker process (and its tesseract) may use; 0: no limit "
            "[default: 2048].",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _batch_kwargs(
    out: Path,
    fmt: str | None,
    state: Path | None,
    quarantine: Path | None,
    executor: str,
    scheduler: str | None,
    page_timeout: float,
    jobs: int | None,
    today: dt.datetime | None,
    no_split: bool,
    **limits: Any,
) -> dict[str, Any]:
    return {
        "out": out,
        "fmt": fmt,
        "state": state,
        "quarantine": quarantine,
        "executor": executor,
        "scheduler": scheduler,
        "options": _options(page_timeout, jobs, today, no_split, **limits),
    }


def _report(result: Any) -> None:
    click.echo(result.summary(), err=True)
    if result.failed:
        sys.exit(int(ExitCode.BATCH_FAILURES))


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_batch_options
@click.option("--force", is_flag=True, help="Read every file again, even those done before.")
@_errors_to_exit
def batch(folder: Path, force: bool, **opts: Any) -> None:
    """Read every letter file under FOLDER into OUT, one record per letter, in parallel.

    Re-running skips what is done, so an interrupted batch resumes where it stopped. The same
    bytes under two names give one record plus a duplicate entry in the manifest. A file that
    cannot be read gets a record with status "failed" and its error; the batch goes on, and the
    exit code is 7 when any letter under FOLDER has failed.
    """
    jobs = opts["jobs"] or os.cpu_count() or 1
    if opts["executor"] == "local" and not opts["scheduler"] and jobs > 1:
        from .forkserver import start

        start()  # the workers' warm-up overlaps the imports and the listing below
    from .batch import run_batch
    from .progress import for_stream

    progress = for_stream(sys.stderr)
    _report(run_batch(folder, force=force, progress=progress, **_batch_kwargs(**opts)))


@main.command(epilog=EXIT_CODES_HELP)
@_batch_options
@_errors_to_exit
def retry(**opts: Any) -> None:
    """Read again only the files an earlier batch into OUT recorded as failed.

    Their old records are replaced; a file that now holds other bytes (a re-scan under the
    same name) replaces its failed record with the new letter's.
    """
    from .batch import retry_failed
    from .progress import for_stream

    _report(retry_failed(progress=for_stream(sys.stderr), **_batch_kwargs(**opts)))


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_batch_options
@click.option("--interval", default=2.0, show_default=True, help="Seconds between looks at FOLDER.")
@click.option(
    "--settle",
    default=5.0,
    show_default=True,
    help="Seconds a file's size and time must stay unchanged before it is read.",
)
@click.option("--once", is_flag=True, help="Read what is there (once settled), then stop.")
@click.option(
    "--max-idle",
    type=float,
    default=None,
    help="Stop after this many seconds with nothing new [default: run until Ctrl-C].",
)
@_errors_to_exit
def watch(
    folder: Path, interval: float, settle: float, once: bool, max_idle: float | None, **opts: Any
) -> None:
    """Watch FOLDER and read each letter into OUT once it has finished arriving.

    Stops cleanly on Ctrl-C or SIGTERM; what was read is recorded, what was in hand is read
    again next time. Resumes like batch: files read before are skipped.
    """
    from .batch import Batch
    from .progress import LogProgress
    from .watch import watch as watch_folder

    with Batch(progress=LogProgress(sys.stderr, interval=0), **_batch_kwargs(**opts)) as b:
        result = watch_folder(
            folder, b, interval=interval, settle=settle, once=once, max_idle=max_idle
        )
    _report(result)


@main.command("split", epilog=EXIT_CODES_HELP)
@click.argument("scan", type=click.Path(path_type=Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@_timeout_opt
@_jobs_opt
@_limit_options
@_errors_to_exit
def split_cmd(
    scan: Path, out_dir: Path, page_timeout: float, jobs: int | None, **limits: Any
) -> None:
    """Cut SCAN (a stack of letters in one PDF or TIFF) into one PDF per letter in OUT_DIR.

    Each letter is written as <name>_p<first>-<last>.pdf; PDF pages are copied unchanged. A cut
    the reader was unsure of is marked "check" with the reason: look at those pages first.
    """
    from .split import DOUBT
    from .stacks import split_file

    pieces = split_file(scan, out_dir, options=_options(page_timeout, jobs, None, **limits))
    for piece in pieces:
        rec = piece.record
        code = rec.fields.notice_code.value or rec.notice.title or "unknown letter"
        dated = rec.fields.notice_date.value
        doubts = [r for r in rec.review.reasons if r.startswith(DOUBT)]
        line = f"{piece.path}  {code}" + (f", dated {dated}" if dated else "")
        click.echo(line + ("  [check: " + doubts[0] + "]" if doubts else ""))
    click.echo(f"{len(pieces)} letter(s) from {scan}", err=True)


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
    """Measure accuracy on a labelled FOLDER (letters plus labels.jsonl from the generator).

    A FOLDER of stacks (stacks.jsonl from 'fixtures stacks') is scored on its cuts instead:
    boundaries found, exact page ranges, and each letter's fields in the stack beside the same
    letter read alone."""
    from .evaluate import evaluate, format_report

    if not (folder / "labels.jsonl").is_file() and not (folder / "stacks.jsonl").is_file():
        raise click.UsageError(
            f"{folder} has no labels.jsonl (make one with 'irs-ingest fixtures generate') "
            "nor stacks.jsonl ('irs-ingest fixtures stacks')"
        )

    def progress(i: int, n: int) -> None:
        if i % 10 == 0 or i == n:
            click.echo(f"evaluated {i}/{n}", err=True)

    if (folder / "stacks.jsonl").is_file():
        from .evaluate import evaluate_stacks, format_stack_report

        report = evaluate_stacks(folder, options=_options(120.0, jobs, None), progress=progress)
        text = format_stack_report(report)
    else:
        report = evaluate(folder, options=_options(120.0, jobs, None), progress=progress)
        text = format_report(report)
    click.echo(json.dumps(report, indent=2, default=str) if as_json else text)


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


@fixtures.command("stacks")
@click.argument("corpus", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--count", "-n", default=50, show_default=True, help="How many stacks.")
@click.option("--seed", "-s", default=1, show_default=True, help="Random seed.")
def fixtures_stacks(corpus: Path, out: Path, count: int, seed: int) -> None:
    """Scan CORPUS's letters into COUNT stacks of 2-12 letters (one PDF each) in OUT.

    Some stacks get blank separator sheets, some blank back sides; OUT/stacks.jsonl holds each
    letter's page range and label, for 'irs-ingest eval OUT'."""
    from fixtures.stacks import make_stacks

    if not (corpus / "labels.jsonl").is_file():
        raise click.UsageError(f"{corpus} has no labels.jsonl (see 'fixtures generate')")
    rows = make_stacks(corpus, out, count, seed)
    click.echo(f"wrote {len(rows)} stacks and stacks.jsonl to {out}", err=True)


if __name__ == "__main__":
    main()
