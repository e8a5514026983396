"""Tesseract, wrapped: the only module that imports pytesseract.

One single-threaded tesseract per core beats one multi-threaded tesseract (design.md: about
0.52 s versus 3.3 s a page here), so OMP_THREAD_LIMIT=1 is set for the subprocesses we start and
parallelism is over pages and files. Probing (doctor) is separate from running.

Running is ours, not pytesseract's, for three reasons. (1) Page images are written into a
private folder the caller owns (one per file, mode 0700, removed also after failures) instead of
pytesseract's shared temp folder, where a killed run leaves a page full of taxpayer data.
(2) Each tesseract starts in its own process group, and a timeout, an interrupt or a stopping
worker kills the whole group: a hung tesseract (or a wrapper script around one) never survives
its deadline. (3) The page goes to tesseract as an uncompressed TIFF: the same pixels as
pytesseract's PNG, so the same words, without a PNG encode per call (about 0.07-0.15 s a page);
tesseract also reads it faster than PNG or PGM (0.62 s against 0.64 s and 0.74 s for a 300-DPI
page here: leptonica's PGM reader is slow).
The pages of a file that read upright go to one tesseract run as a list of pictures: the same
words, with the run's start (loading the model, about 0.08 s) paid once instead of per page.
pytesseract still parses tesseract's TSV and OSD output and probes the installation.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

from .document import Word
from .errors import FileTimeoutError, OcrError, OcrTimeoutError, TesseractMissingError
from .imaging import grey, median3, median_level, skew_angle, without_rules
from .privacy import mask_ids

# Orientation detection costs a second tesseract run, so it only runs when the first reading looks
# wrong: few confident dictionary-like words is what a sideways or upside-down page gives.
GOOD_WORD_CONF = 70
MIN_GOOD_WORD_RATIO = 0.45
_GOOD_WORD = re.compile(r"^[A-Za-z]{3,}[.,:;]?$")
# The environment variable that names another tesseract binary; read once by Options, never here.
TESSERACT_ENV = "IRS_INGEST_TESSERACT"
TEMP_PREFIX = "irs-ingest-"
# A grey scan with sensor noise and dust (a poor scanner, an old copier) misleads tesseract's
# global threshold; a 3x3 median filter removes both and keeps stroke edges. Measured on the
# generator's heavily degraded letters (dev corpora): notice code 76 -> 94%, notice date 65 -> 98%,
# taxpayer name 17 -> 78%. Clean, light and fax scans measure 0 here and are left as they are.
_MIN_SKEW = 0.3  # degrees; below this a turn only blurs the print
NOISY = 2  # median grey step between horizontal neighbours; noisy scans measure 3-9
# Tesseract re-reads each poorly recognised line inverted, for white-on-black print; letters have
# none worth it, and on a damaged page that doubles the work (same words, a quarter less time).
_TESS_CONFIG = ["-c", "tessedit_do_invert=0"]
# Ink: the share of a page (margins left out) darker than its paper by a clear step, measured at
# about 75 dpi so that scanner noise and dust average out while a pen or toner stroke does not.
# Empty sheets here measure under 0.00005, a page with one short line about 0.001; below NO_INK
# tesseract is not run at all (an empty noisy sheet costs it seconds and gives nothing).
NO_INK = 0.0002
_INK_STEP = 60  # grey levels below the paper's
_INK_CAP = 170  # and never lighter than this, whatever the paper
_INK_MARGIN = 0.05  # of each side: scanner edges, punch holes and shadows


@dataclass(slots=True)
class OcrPage:
    fragments: list[list[Word]]
    rotation: int  # degrees turned clockwise to read upright
    quality: float  # share of confident word-like words, for diagnostics
    vertical: bool = False  # most words taller than wide: the page lies on its side
    ink: float | None = None  # see ink(); None when not measured
    # Degrees the page was turned counter-clockwise about its centre to level it (a crooked
    # noisy scan, see _clean): its boxes are those of the levelled page.
    skew: float = 0.0


@dataclass(slots=True)
class TesseractInfo:
    path: str | None
    version: str | None
    languages: list[str]


def configure(threads: int = 1) -> None:
    """Pin tesseract's OpenMP threads for every subprocess we start from here on."""
    os.environ["OMP_THREAD_LIMIT"] = str(threads)


configure()


def _pytesseract() -> Any:
    """pytesseract, imported on first use: a text-layer letter never needs it (0.1 s)."""
    import pytesseract

    return pytesseract


def preload() -> None:
    """Import pytesseract and Pillow's TIFF writer now rather than on the first page to OCR
    (forkserver warm-up)."""
    from PIL import TiffImagePlugin  # noqa: F401 - registers the writer every page uses

    _pytesseract()


def probe() -> TesseractInfo:
    pytesseract = _pytesseract()
    path = shutil.which(pytesseract.pytesseract.tesseract_cmd)
    if path is None:
        return TesseractInfo(None, None, [])
    try:
        version = str(pytesseract.get_tesseract_version())
        languages = sorted(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError):
        return TesseractInfo(path, None, [])
    return TesseractInfo(path, version, languages)


def default_command() -> str:
    return str(_pytesseract().pytesseract.tesseract_cmd)


@contextlib.contextmanager
def private_folder(parent: str | os.PathLike[str] | None = None) -> Iterator[Path]:
    """A folder only this user can read (0700), removed on the way out whatever happened.

    Its name carries our pid, so `sweep_stale` can remove what a killed process left behind.
    """
    try:
        holder = tempfile.TemporaryDirectory(
            prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=parent, ignore_cleanup_errors=True
        )
    except OSError as exc:
        where = parent or tempfile.gettempdir()
        raise OcrError(
            f"Cannot make a private temporary folder in {where} ({exc.strerror})"
        ) from None
    with holder as d:
        yield Path(d)


def sweep_stale(parent: str | os.PathLike[str] | None = None) -> int:
    """Remove private folders left by processes that no longer exist (killed with -9, OOM).

    Only folders of ours (our prefix, owned by this user) whose pid is not running are removed.
    """
    base = Path(parent or tempfile.gettempdir())
    removed = 0
    try:
        entries = list(base.iterdir())
    except OSError:
        return 0
    for entry in entries:
        m = re.fullmatch(re.escape(TEMP_PREFIX) + r"(\d+)-\w+", entry.name)
        if not m:
            continue
        try:
            if entry.is_symlink() or not entry.is_dir() or entry.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        if _alive(int(m[1])):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(slots=True)
class Prepared:
    """A page ready for tesseract: measured, cleaned and turned, its image written to disk (so
    that pages waiting to be read together hold no bitmap in memory)."""

    page: int
    scale: float
    ink: float
    angle: int  # clockwise degrees it was turned before reading
    ask_turn: bool  # the ascender balance could not tell: tesseract's --psm 1 turns it
    skew: float  # see OcrPage.skew
    size: tuple[int, int]
    picture: Path | None  # None: no ink, nothing for tesseract to read


def prepare(image: Image.Image, *, scale: float, page: int, folder: Path) -> Prepared:
    """Everything done to a page before tesseract sees it; its image goes into `folder`."""
    cover = ink(image)
    if cover < NO_INK:
        return Prepared(page, scale, cover, 0, False, 0.0, image.size, None)
    image, skew = _clean(image, 72 / scale)
    # A letter scanned on its side or upside down is turned here when the ascender balance
    # says clearly which way is up, and read like any upright page; when it cannot tell,
    # tesseract's own orientation step (--psm 1, about 0.35 s more) turns it within the one
    # run. Either way no upright read is wasted on it, and a wrong turn is caught later.
    turn = upright_turn(image)
    angle = turn or 0
    base = image.rotate(-angle, expand=True) if angle else image
    picture = _save(base, folder / f"p{page}-{next(_Runner.names)}", page)
    return Prepared(page, scale, cover, angle, turn is None, skew, base.size, picture)


# Pages of one file read by one tesseract run: its start (loading the model, ~0.08 s of 0.6-1.2
# s a page here) is paid once for them all. The words come out the same as page by page.
BATCH_PAGES = 8


def read_prepared(
    pages: list[Prepared],
    *,
    lang: str = "eng",
    timeout: float = 60,
    deadline: float | None = None,
    cmd: str | None = None,
    folder: Path,
) -> list[OcrPage | OcrError]:
    """Each page's words, or the error that stopped it; the pages upright on their own are read
    in one tesseract run. `timeout` bounds each page (a run over several gets theirs summed),
    `deadline` (monotonic) the whole file. Removes the pages' images."""
    cmd = cmd or default_command()
    deadline = deadline if deadline is not None else time.monotonic() + timeout * len(pages)
    together = [p for p in pages if p.picture is not None and not p.ask_turn]
    first: dict[int, OcrPage] = {}
    if len(together) >= 2:
        budget = min(deadline, time.monotonic() + timeout * len(together))
        run = _Runner(cmd, folder, together[0].page, budget, timeout * len(together))
        try:
            first = _read_many(run, together, lang)
        except FileTimeoutError:
            raise
        except OcrError:
            first = {}  # one page stopped the run: each is read alone, and fails alone
    out: list[OcrPage | OcrError] = []
    try:
        for p in pages:
            run = _Runner(cmd, folder, p.page, min(deadline, time.monotonic() + timeout), timeout)
            try:
                out.append(_finish(run, p, first.get(id(p)), lang))
            except FileTimeoutError:
                raise
            except OcrError as exc:
                out.append(exc)
    finally:
        for p in pages:
            if p.picture is not None:
                p.picture.unlink(missing_ok=True)
    return out


def ocr_page(
    image: Image.Image,
    *,
    scale: float,
    page: int,
    lang: str = "eng",
    timeout: float = 60,
    cmd: str | None = None,
    folder: Path | None = None,
) -> OcrPage:
    """Words with boxes (in points) and confidences; turns the page upright when it is not.

    `timeout` bounds the whole page, every tesseract run on it included. Page images go into
    `folder` (the caller's private folder for the file) or into a private folder of this call.
    """
    deadline = time.monotonic() + timeout
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = stack.enter_context(private_folder())
        ready = prepare(image, scale=scale, page=page, folder=folder)
        (result,) = read_prepared(
            [ready], lang=lang, timeout=timeout, deadline=deadline, cmd=cmd, folder=folder
        )
    if isinstance(result, OcrError):
        raise result
    return result


def _finish(run: _Runner, p: Prepared, result: OcrPage | None, lang: str) -> OcrPage:
    """The page's reading, checked: a page that reads poorly gets tesseract's orientation
    detection and the readings it suggests, and the best of them is kept."""
    if p.picture is None:
        return OcrPage([], 0, 0.0, ink=p.ink)
    if result is None:
        result = _read(run, p.picture, p.size, p.scale, lang, turn=p.ask_turn)
    if p.angle:
        result.rotation = p.angle
    result.ink, result.skew = p.ink, p.skew
    if result.quality >= MIN_GOOD_WORD_RATIO and not result.vertical:
        return result
    best = result
    try:
        with Image.open(p.picture) as picture:
            base = picture.copy()
        rotate = _orientation(run, base)
        # Tesseract reads a sideways page as vertical text lines: the words come out right
        # but the layout is lost. When OSD cannot tell which way, try both quarter turns.
        tries = [rotate] if rotate else ([90, 270] if result.vertical else [])
        for extra in tries:
            turned = base.rotate(-extra, expand=True)
            again = _read_image(run, turned, p.scale, lang)
            again.rotation = (p.angle + extra) % 360
            again.ink, again.skew = p.ink, p.skew
            if again.quality > best.quality or (best.vertical and not again.vertical):
                best = again
    except FileTimeoutError:
        raise  # the whole file's time is up: not this page's business to swallow
    except (OcrError, OSError):
        pass  # the page was read once; only the second opinions failed or ran out of time
    return best


def noise(image: Image.Image) -> float:
    """Median grey step between horizontal neighbours: 0 on a clean scan (paper is flat, and most
    pixels sit beside one of the same grey), several levels on a noisy one. A black-and-white
    page (a fax) has no grey noise to remove: 0."""
    if image.mode == "1":
        return 0.0
    # Every other row is as good a sample at half the cost (a clean 300-DPI page: 25 -> 11 ms);
    # noisy or not came out the same on all 500 pages of seeds 720001 and 700001.
    rows = grey(image)
    rows = rows.resize((rows.width, max(1, rows.height // 2)), Image.Resampling.NEAREST)
    steps = ImageChops.difference(rows, ImageChops.offset(rows, 1, 0))
    return float(median_level(steps.histogram()))


def _clean(image: Image.Image, dpi: float) -> tuple[Image.Image, float]:
    """A noisy grey scan (the damaged, faded, crooked kind) is median-filtered and levelled, and
    every page is rid of its horizontal rules, before tesseract sees it. With the page, the
    degrees it was turned counter-clockwise about its centre to level it. On 100 heavily
    degraded letters (seed 700001) levelling and rule removal took the tax years read right
    from 87 to 92%, the amount due from 89 to 94%, the response date from 95 to 98% (a ruled
    table on a crooked page was read as one garbled line, or lost); notice date 93 -> 92%. On
    clean pages too a ruled box loses its text ("AMOUNT DUE: $8,681.11" boxed beside the
    address): rules off every page fixed 9 fields and lost 1 on seeds 790001 and 810001."""
    rules = round(dpi / 3), round(dpi / 25)
    if noise(image) < NOISY:
        return without_rules(image, 128, 255, *rules), 0.0
    image = median3(image)
    hist = image.histogram()
    paper, dark = median_level(hist), _dark_level(hist)
    # Text lines run across an upright or upside-down page only; a page on its side is turned
    # a quarter later, and its skew is not measured here.
    angle = skew_angle(image, dark) if image.height >= image.width else 0.0
    if abs(angle) < _MIN_SKEW:
        angle = 0.0
    else:
        image = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=paper)
    return without_rules(image, (dark + paper) // 2, paper, *rules), angle


def ink(image: Image.Image) -> float:
    """Share of the page's inner area covered by ink, whatever the resolution or paper colour.

    Tells an empty sheet (a separator, the blank back of a page) from a page tesseract could not
    read: both give no words, but only one of them is part of a letter."""
    page = grey(image)
    factor = max(1, round(page.width / 640))
    small = page.reduce(factor) if factor > 1 else page
    w, h = small.size
    dx, dy = int(w * _INK_MARGIN), int(h * _INK_MARGIN)
    hist = small.crop((dx, dy, w - dx, h - dy)).histogram()
    total = sum(hist)
    if not total:
        return 0.0
    return sum(hist[: max(0, _dark_level(hist))]) / total


def _dark_level(hist: list[int]) -> int:
    """Grey levels below this are ink: a clear step below the paper (most of a page is paper)."""
    return min(median_level(hist) - _INK_STEP, _INK_CAP)


def ascender_balance(image: Image.Image, strips: int = 16) -> float:
    """How much more of the ink of text lines sits above their x-height band than below it,
    from -1 to 1. Latin print has far more ascenders and capitals (b, d, h, k, l, t, A-Z, 0-9)
    than descenders (g, j, p, q, y), so an upright page scores above 0 and one upside down
    below (on 560 generated pages: upright ones score -0.07 to 0.65, 99% above 0; upside-down
    ones -0.66 to 0.07, 21 of 23 below -0.25; heavily skewed or blurred pages come out near 0).
    About 10 ms a page. Lines are found per
    narrow vertical strip so that a page scanned a few degrees crooked still has separate lines.
    """
    import numpy as np

    page = grey(image)
    factor = max(1, round(max(page.size) / 1650))  # 150-200 DPI: x-height ~10 pixels
    small = page.reduce(factor) if factor > 1 else page
    w, h = small.size
    dx, dy = int(w * _INK_MARGIN), int(h * _INK_MARGIN)
    inner = small.crop((dx, dy, w - dx, h - dy))
    dark = np.asarray(inner) < _dark_level(inner.histogram())
    above = below = 0
    width = dark.shape[1]
    for k in range(strips):
        rows = dark[:, k * width // strips : (k + 1) * width // strips].sum(axis=1)
        edges = np.flatnonzero(np.diff(np.concatenate(([0], rows > 0, [0])).astype(np.int8)))
        for top, end in zip(edges[::2], edges[1::2], strict=True):
            if not 5 <= end - top <= 60:  # a line of print, not a speck or a picture
                continue
            line = rows[top:end]
            band = np.flatnonzero(line >= 0.4 * line.max())  # the dense x-height rows
            above += int(line[: band[0]].sum())
            below += int(line[band[-1] + 1 :].sum())
    return (above - below) / (above + below) if above + below else 0.0


# Ascender balance beyond which a page is turned without asking tesseract: upright pages score
# -0.07 at the lowest (560 generated pages), upside-down ones -0.14 at the highest but for a few
# near 0 (67 pages, seed 600001); of 114 sideways pages turned both ways, the right way scored
# 0.07 or more and the wrong way below 0, as tesseract's OSD agreed on every one.
_TURN_BELOW = -0.1
_SIDEWAYS_GAP = 0.05


def upright_turn(image: Image.Image) -> int | None:
    """Clockwise degrees that turn the page upright (0, 90, 180 or 270), from the ascender
    balance; None when the page is suspect (on its side, or scoring a little below 0) but the
    balance does not tell clearly which way."""
    if image.width > image.height:  # a letter is taller than wide: this one lies on its side
        cw = ascender_balance(image.transpose(Image.Transpose.ROTATE_270))
        ccw = ascender_balance(image.transpose(Image.Transpose.ROTATE_90))
        if min(cw, -ccw) >= _SIDEWAYS_GAP:
            return 90
        if min(ccw, -cw) >= _SIDEWAYS_GAP:
            return 270
        return None
    balance = ascender_balance(image)
    if balance >= 0:
        return 0
    return 180 if balance <= _TURN_BELOW else None


class _Runner:
    """Runs tesseract on pictures in one private folder, within one page's (or run's) deadline."""

    names = itertools.count()

    def __init__(self, cmd: str, folder: Path, page: int, deadline: float, timeout: float):
        self.cmd = cmd
        self.folder = folder
        self.page = page
        self.deadline = deadline
        self.timeout = timeout

    def __call__(self, image: Image.Image, args: list[str], ext: str) -> str:
        """Tesseract's output file (`ext`) for this image, read as text."""
        picture = _save(image, self.folder / f"p{self.page}-{next(self.names)}", self.page)
        try:
            return self.read(picture, args, ext)
        finally:
            picture.unlink(missing_ok=True)

    def read(self, picture: Path, args: list[str], ext: str) -> str:
        """Tesseract's output file (`ext`) for a picture on disk, or a list of pictures."""
        stem = self.folder / f"out{self.page}-{next(self.names)}"
        try:
            _run(
                [self.cmd, str(picture), str(stem), *args],
                timeout=self.deadline - time.monotonic(),
                page=self.page,
                page_timeout=self.timeout,
            )
            out = stem.with_name(stem.name + ext)
            try:
                return out.read_text(encoding="utf-8", errors="replace")
            except OSError:
                raise OcrError(
                    f"Tesseract gave no output for page {self.page}", page=self.page
                ) from None
        finally:
            for leftover in self.folder.glob(stem.name + ".*"):
                leftover.unlink(missing_ok=True)


def _save(image: Image.Image, stem: Path, page: int) -> Path:
    try:
        return _write_image(image, stem)
    except OSError as exc:  # the temporary folder's disk is full, or it went away
        raise OcrError(f"Cannot write page {page} for OCR ({exc.strerror})", page=page) from None


def _write_image(image: Image.Image, stem: Path) -> Path:
    """The page as an uncompressed TIFF: same pixels, no encode cost, quick for tesseract.
    Uncompressed said outright: Pillow would otherwise reuse the compression of the TIFF the
    page came from, JPEG included (lossy, and it changed what tesseract read). No resolution is
    written (Pillow takes none from the image's metadata), so tesseract estimates it from the
    text as it does for any page."""
    if image.mode not in ("1", "L", "RGB"):
        image = image.convert("L")
    path = stem.with_suffix(".tif")
    image.save(path, format="TIFF", compression="raw")
    return path


_RUNNING: set[subprocess.Popen[bytes]] = set()
_RUNNING_LOCK = threading.Lock()


def _run(args: list[str], *, timeout: float, page: int, page_timeout: float) -> None:
    """Run tesseract in its own process group; on timeout or interrupt, kill the group."""
    if timeout <= 0:
        raise OcrTimeoutError(f"OCR timed out after {page_timeout:g} s", page=page)
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except (FileNotFoundError, PermissionError, NotADirectoryError):
        raise TesseractMissingError("Tesseract is not installed or not on PATH") from None
    with _RUNNING_LOCK:
        _RUNNING.add(proc)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise OcrTimeoutError(f"OCR timed out after {page_timeout:g} s", page=page) from None
    except BaseException:  # Ctrl-C, a stopping worker, the hard deadline: no orphan left
        _kill(proc)
        raise
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(proc)
    if proc.returncode != 0:
        raise OcrError(
            f"Tesseract failed on page {page}: {_reason(proc.returncode, err)}", page=page
        )


def _reason(code: int, err: bytes) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    lines = [ln.strip() for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(("Estimating resolution", "Warning"))]
    return mask_ids((useful or lines or [f"exit status {code}"])[-1][:120])


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill tesseract and anything it started, and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.wait()
    if proc.stderr is not None:
        proc.stderr.close()


def stop_all() -> None:
    """Kill every tesseract this process is running (on Ctrl-C, or when a worker stops)."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for proc in running:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)


def _tsv_args(lang: str, psm: str) -> list[str]:
    return ["-l", lang, "-c", "tessedit_create_tsv=1", "--psm", psm, *_TESS_CONFIG]


def _read(
    run: _Runner,
    picture: Path,
    size: tuple[int, int],
    scale: float,
    lang: str,
    *,
    turn: bool = False,
) -> OcrPage:
    """One tesseract reading of a picture on disk; with `turn`, tesseract detects the
    orientation and reads the page turned upright (--psm 1, about 0.35 s more than --psm 3),
    and the boxes are turned here."""
    data = _table(run.read(picture, _tsv_args(lang, "1" if turn else "3"), ".tsv"), run.page)
    return _parse(data, range(len(data["text"])), size, scale, turn=turn)


def _read_image(run: _Runner, image: Image.Image, scale: float, lang: str) -> OcrPage:
    data = _table(run(image, _tsv_args(lang, "3"), ".tsv"), run.page)
    return _parse(data, range(len(data["text"])), image.size, scale)


def _read_many(run: _Runner, pages: list[Prepared], lang: str) -> dict[int, OcrPage]:
    """Several upright pages in one tesseract run (a list of pictures), keyed by id(page)."""
    listing = run.folder / f"list{run.page}-{next(_Runner.names)}.txt"
    try:
        listing.write_text("".join(f"{p.picture}\n" for p in pages), encoding="utf-8")
        data = _table(run.read(listing, _tsv_args(lang, "3"), ".tsv"), run.page)
    except OSError as exc:
        raise OcrError(f"Cannot write the page list for OCR ({exc.strerror})") from None
    finally:
        listing.unlink(missing_ok=True)
    rows: dict[int, list[int]] = {}
    for i, number in enumerate(data["page_num"]):
        rows.setdefault(int(number), []).append(i)
    if set(rows) - set(range(1, len(pages) + 1)):
        raise OcrError(f"Tesseract gave unreadable output for page {run.page}", page=run.page)
    return {
        id(p): _parse(data, rows.get(n, []), p.size, p.scale) for n, p in enumerate(pages, start=1)
    }


def _table(tsv: str, page: int) -> dict[str, list[Any]]:
    try:
        data: dict[str, list[Any]] = _pytesseract().pytesseract.file_to_dict(tsv, "\t", -1)
        data["text"]  # noqa: B018 - a TSV without its header row is not tesseract's
        data["page_num"]  # noqa: B018
    except (KeyError, IndexError, ValueError):
        raise OcrError(f"Tesseract gave unreadable output for page {page}", page=page) from None
    return data


def _parse(
    data: dict[str, list[Any]],
    rows: Iterable[int],
    size: tuple[int, int],
    scale: float,
    *,
    turn: bool = False,
) -> OcrPage:
    """Tesseract's TSV rows of one page as lines of words in points, with the reading quality."""
    found: dict[tuple[int, int, int], list[tuple[str, float, Box]]] = {}
    for i in rows:
        text = str(data["text"][i]).strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        x, y, w, h = data["left"][i], data["top"][i], data["width"][i], data["height"][i]
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        found.setdefault(key, []).append((text, conf, (x, y, x + w, y + h)))
    rotation = _reading_direction(found.values()) if turn else 0
    lines: list[list[Word]] = []
    good = total = tall = long_words = 0
    for words in found.values():
        line = []
        for text, conf, box in words:
            x0, y0, x1, y1 = _turn(box, rotation, size)
            line.append(
                Word(text, (x0 * scale, y0 * scale, x1 * scale, y1 * scale), conf / 100, "ocr")
            )
            total += 1
            good += conf >= GOOD_WORD_CONF and bool(_GOOD_WORD.match(text))
            if len(text) >= 4:
                long_words += 1
                tall += y1 - y0 > x1 - x0
        lines.append(line)
    quality = good / total if total else 0.0
    vertical = long_words >= 5 and tall / long_words > 0.5
    return OcrPage(lines, rotation, quality, vertical)


Box = tuple[int, int, int, int]


def _reading_direction(lines: Iterable[list[tuple[str, float, Box]]]) -> int:
    """Clockwise degrees that turn the image so its lines run left to right, from the way
    tesseract's words follow each other in the image (it reports boxes unturned)."""
    votes = {0: 0, 90: 0, 180: 0, 270: 0}
    for words in lines:
        if len(words) < 2:
            continue
        (a0, b0, a1, b1), (c0, d0, c1, d1) = words[0][2], words[-1][2]
        dx, dy = (c0 + c1) - (a0 + a1), (d0 + d1) - (b0 + b1)
        if abs(dx) >= abs(dy):
            votes[0 if dx > 0 else 180] += len(words)
        else:  # lines running up the image read upright once it is turned clockwise
            votes[90 if dy < 0 else 270] += len(words)
    return max(votes, key=lambda k: (votes[k], k == 0))


def _turn(box: Box, rotation: int, size: tuple[int, int]) -> Box:
    """A box of the image as it lies, in the image turned `rotation` degrees clockwise."""
    x0, y0, x1, y1 = box
    w, h = size
    if rotation == 90:
        return h - y1, x0, h - y0, x1
    if rotation == 180:
        return w - x1, h - y1, w - x0, h - y0
    if rotation == 270:
        return y0, w - x1, y1, w - x0
    return box


def _orientation(run: _Runner, image: Image.Image) -> int:
    """Clockwise degrees to turn the page upright per tesseract's OSD, 0 when unsure."""
    try:
        text = run(image, ["-l", "osd", "--psm", "0", "-c", "min_characters_to_try=10"], ".osd")
        osd = _pytesseract().pytesseract.osd_to_dict(text)
    except OcrTimeoutError:
        raise
    except (OcrError, KeyError, ValueError):
        return 0  # too few characters to tell: leave the page as it is
    rotate = int(osd.get("rotate", 0)) % 360
    return rotate if float(osd.get("orientation_conf", 0)) >= 1.0 else 0
