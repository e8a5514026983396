"""The total the letter asks for: the amount a total label owns, never a billing line item.

Prose mentions money too ("if you owe $50,000 or less", "settle for less than you owe"), so a
label counts only outside a condition, and on its own line only when what stands between it and
the amount is filler ("is", "of", "by <date>"), not more prose.
"""

from __future__ import annotations

import re
from collections import defaultdict

from ingest.document import Line, Page

from .base import SKIPPED_ROWS, Candidate, Context, Slot, in_prose, speck
from .parse import Money, find_dates, find_money

DECAY = {0: 1.0, 1: 0.95, 2: 0.85, 3: 0.7}
RIVAL_AT = 0.6  # a second total read this strongly means the letter disagrees with itself
# "If you owe ..." is a condition, not a demand, also with OCR's "{f" / "|f" for "If".
_CONDITION_BEFORE = re.compile(
    r"(?:\b(?:if|than|unless|whether|when)|(?<![A-Za-z])[{|!1l]f)\s*$", re.IGNORECASE
)
# "... $50,000 or less": a threshold the letter explains, not what is owed.
_THRESHOLD_AFTER = re.compile(r"\s*or\s+(?:less|more|fewer)\b", re.IGNORECASE)
_CONDITION_AFTER = re.compile(r"^\s*(?:if|when|unless|for other)\b", re.IGNORECASE)
_FILLER = {
    "immediately",
    "now",
    "is",
    "of",
    "was",
    "by",
    "on",
    "as",
    "to",
    "be",
    "received",
    "paid",
    "due",
    "the",
    "total",
    "balance",
    "amount",
    "owed",
    "you",
    "owe",
    "usd",
    "currently",
    "before",
    "date",
    "in",
    "full",
    "payment",
    "this",
    "notice",
    "letter",
}


def _filler_only(text: str) -> bool:
    for d in reversed(find_dates(text)):
        text = text[: d.start] + " " + text[d.end :]
    words = re.findall(r"[A-Za-z]+", text)
    return all(w.lower() in _FILLER for w in words)


def _runs_on(line: Line, below: Slot) -> bool:
    """The sentence goes on to the line below: it does not stop at the line's end ("... to an
    amount owed for 2015."), and no paragraph gap stands between them."""
    height = line.bbox[3] - line.bbox[1]
    gap = below.line.bbox[1] - line.bbox[3]
    return gap <= 0.8 * height and not re.search(r"[a-z0-9)]\.\s*$", line.text)


def _in_table_column(page: Page, line: Line) -> bool:
    """The value sits on a row of a column of amounts (a line item), not alone under its label.
    The next row under it in the column decides; a row with nothing in the column, or only a
    speck (a stamp's garbage read as a row of its own), is looked past."""
    x0, _, x1, _ = line.bbox
    for gap in range(1, 2 + SKIPPED_ROWS):
        below = [
            o
            for o in page.lines
            if o.row == line.row + gap and o.bbox[0] < x1 and o.bbox[2] > x0 and not speck(o)
        ]
        if below:
            return any(find_money(o.text) for o in below)
    return False


# An amount the words after it name as taxes owed: "FAILURE TO PAY $1,823.38 IN FEDERAL TAXES",
# "you owe 2,467 in back taxes". Weaker than a label before the amount.
_TAXES_AFTER = re.compile(
    r"^\s*in\s+(?:(?:unpaid|back|federal|owed)[,.]?\s+)*tax(?:es)?\b", re.IGNORECASE
)
TAXES_AFTER_WEIGHT = 0.7


def _named_after(ctx: Context) -> list[Candidate]:
    out: list[Candidate] = []
    for page, _i, line in ctx.doc.lines():
        for span in find_money(line.text, bare=True):
            money: Money = span.value  # type: ignore[assignment]
            if money.negative or not _TAXES_AFTER.match(line.text[span.end :]):
                continue
            score = TAXES_AFTER_WEIGHT * (1.0 if money.has_symbol or money.has_cents else 0.6)
            conf = line.span_confidence(span.start, span.end)
            out.append(
                Candidate(
                    money.amount,
                    score * (0.55 + 0.45 * conf),
                    page.number,
                    line.span_bbox(span.start, span.end),
                    line.text,
                    "amount_due",
                )
            )
    return out


def _shaped(money: Money, text: str) -> bool:
    """An amount by its look alone: a sign, cents or thousands grouping ("19,515", not "2")."""
    return money.has_symbol or money.has_cents or "," in text


def _broken_labels(ctx: Context) -> list[Candidate]:
    """Amounts after a label the line's end cut in two ("... The balance" / "of 19,515 must be
    settled by ..."): labels are matched a line at a time, so the two lines are read as one
    where the first ends on a word of an amount label. The amount must open the next line's
    rest, after filler only, and look like money by itself."""
    out: list[Candidate] = []
    words = {w for w in ctx.labeler.words.get("amount_due", set()) if len(w) >= 4}
    for page, _i, line in ctx.doc.lines():
        last = re.findall(r"[A-Za-z]+", line.text[-20:])
        below = ctx.next_line(page, line) if last and last[-1].lower() in words else None
        if below is None:
            continue
        joined, cut = f"{line.text} {below.text}", len(line.text) + 1
        for hit in ctx.labeler.hits(joined):
            if hit.role != "amount_due" or not hit.start < len(line.text) < hit.end:
                continue
            if _CONDITION_BEFORE.search(joined[max(0, hit.start - 12) : hit.start]):
                continue
            if _CONDITION_AFTER.match(joined[hit.end :]):
                continue
            rest = hit.end - cut
            dates = find_dates(below.text)
            spans = [
                s
                for s in find_money(below.text, bare=True)
                if s.start >= rest
                and not any(d.start <= s.start < d.end for d in dates)
                and _shaped(s.value, below.text[s.start : s.end])  # type: ignore[arg-type]
            ]
            if not spans or not _filler_only(below.text[rest : spans[0].start]):
                continue
            money: Money = spans[0].value  # type: ignore[assignment]
            if money.negative:
                continue
            score = hit.weight * (1.0 if money.has_symbol or money.has_cents else 0.5)
            conf = below.span_confidence(spans[0].start, spans[0].end)
            out.append(
                Candidate(
                    money.amount,
                    score * (0.55 + 0.45 * conf),
                    page.number,
                    below.span_bbox(spans[0].start, spans[0].end),
                    joined,
                    "amount_due",
                )
            )
    return out


def amount_due(ctx: Context) -> Candidate | None:
    found: list[Candidate] = []
    cut: list[Candidate] = []  # read without cents: none printed, or unreadable
    for page, i, line, hit in ctx.labelled("amount_due"):
        if _CONDITION_BEFORE.search(line.text[max(0, hit.start - 12) : hit.start]):
            continue
        if _CONDITION_AFTER.match(line.text[hit.end :]):
            continue
        items = ctx.hits(line, "line_item")
        # Where the label's own amount ends: a part named after it ("Total interest", "Amount
        # owed ... penalties") counts, the sentence after its amount ("... $16,889.46 by May 3
        # to avoid penalty and interest") does not.
        money_after = [s.start for s in find_money(line.text) if s.start >= hit.end]
        label_end = min(money_after, default=len(line.text))
        if any(hit.end <= h.start < label_end and h.weight >= 0.8 for h in items):
            continue
        if any(h.end <= hit.start and hit.start - h.end <= 2 and h.weight >= 0.8 for h in items):
            continue  # "Previous amount due", "Prior balance due": an earlier figure
        if any(h.start <= hit.start and h.end >= hit.end and h.weight >= 0.8 for h in items):
            continue  # "Amount you owed" (past tense) is a billing line, not the total
        prose = in_prose(line.text, hit.start, hit.end, _FILLER)
        for slot in ctx.slots(page, i, hit.end):
            if prose and slot.distance == 1:
                continue  # a label mid-sentence owns no table cell beside it,
            if prose and (slot.distance > 2 or slot.distance == 2 and not _runs_on(line, slot)):
                break  # nor rows below the line its sentence runs on to
            dates = find_dates(slot.line.text)
            spans = [
                s
                for s in find_money(slot.line.text, bare=slot.distance == 0)
                if s.start >= slot.start and not any(d.start <= s.start < d.end for d in dates)
            ]  # "Amount due by November 3, 2025": the 3 is the date's day, not money
            if not spans:
                continue
            span = spans[0]
            money: Money = span.value  # type: ignore[assignment]
            if _THRESHOLD_AFTER.match(slot.line.text[span.end :]):
                break
            if money.negative and (slot.distance >= 2 or slot.line.text[span.start + 1].isspace()):
                # a credit in a column below the label is a line item (beside it, the total);
                # "Amount due - $500.00" has a dash between label and amount, not a sign
                break
            if slot.distance == 0 and not _filler_only(line.text[hit.end : span.start]):
                break
            if slot.distance >= 2 and _in_table_column(page, slot.line):
                break
            if slot.distance >= 2 and not _filler_only(slot.line.text[: span.start]):
                break  # "... you are due a refund of $1,557.00" below a label is not its value
            before = [
                h
                for h in ctx.hits(slot.line, "line_item")
                if h.start < span.start
                and h.weight >= 0.8
                and (slot.distance or h.start >= hit.end)
            ]
            if before:
                break
            score = hit.weight * DECAY.get(slot.distance, 0.6)
            if not money.has_symbol and not money.has_cents:
                score *= 0.5
            lost_cents = not money.has_cents and re.match(
                r"[.,]\s?\S|\s\d(?:\d(?!\d)|[A-Za-z])", slot.line.text[span.end :]
            )
            if lost_cents:
                score *= 0.6  # "$6, 710. Se", "$8,470 47", "$1,081 7Bir": unreadable cents
            conf = slot.line.span_confidence(span.start, span.end)
            found.append(
                Candidate(
                    -money.amount if money.negative else money.amount,
                    score * (0.55 + 0.45 * conf),
                    page.number,
                    slot.line.span_bbox(span.start, span.end),
                    line.text if slot.distance == 0 else f"{line.text} | {slot.line.text}",
                    "amount_due",
                )
            )
            if lost_cents or not money.has_cents:
                cut.append(found[-1])
            break
    found += _named_after(ctx)
    found += _broken_labels(ctx)
    # A reading without cents ("$1,081 7Bir", "$14,242." with the cents under a stamp) supports
    # the one reading of the same dollars with cents elsewhere ("$1,081.75") instead of
    # competing with it as $1,081.00: a letter prints its total the same way each time.
    for c in cut:
        full = {o.value for o in found if o not in cut and o.value != c.value}
        same = [v for v in full if int(v) == c.value]
        if len(same) == 1:
            c.value = same[0]
    if not found:
        return None
    by_value: dict[object, list[Candidate]] = defaultdict(list)
    for c in found:
        by_value[c.value].append(c)

    def strength(cs: list[Candidate]) -> float:
        return max(c.confidence for c in cs) + 0.08 * (len(cs) - 1)

    best = max(by_value.values(), key=strength)
    top = max(best, key=lambda c: c.confidence)
    top.confidence = min(1.0, strength(best))
    top.support = len(best)
    rivals = [v for v, cs in by_value.items() if cs is not best and strength(cs) >= RIVAL_AT]
    if rivals:
        top.rival = rivals[0]
        top.confidence = min(top.confidence, 0.85)
    return top
