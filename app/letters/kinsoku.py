"""Japanese line breaking with kinsoku shori (禁則処理), measured with real font widths.

ReportLab's ``wordWrap='CJK'`` lets ，．！？：；〜 start a line, has no line-end
rules and may split an id. This breaker:

- never starts a line with closing brackets, punctuation, small kana, the
  prolonged sound mark, iteration marks or middle dots (行頭禁則);
- never ends a line with an opening bracket (行末禁則);
- lets 、。，． hang past the right edge by one character (ぶら下げ) when that
  keeps the line legal, otherwise pushes characters to the next line (追い出し);
- never splits a protected token: case numbers (H-0001234-7), amounts
  (38,615,473円), dates (2019年8月19日), runs of Latin letters, digits and
  hyphens (account and phone numbers, letter codes), ……/—— pairs, and any
  extra strings the caller names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

LINE_START_FORBIDDEN = frozenset(
    # closing brackets and quotes
    "」』）)】〕］]｝}〉》〙〗〛’”»"
    # punctuation
    "、。，．,.！!？?：:；;‼⁇⁈⁉・･"
    # small kana
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿｧｨｩｪｫｯｬｭｮ"
    # prolonged sound mark, wave dashes, iteration marks, hyphens
    "ーｰ〜～゠‐–ゝゞヽヾ々〻"
    # trailing units
    "%％‰℃°′″"
)
LINE_END_FORBIDDEN = frozenset("「『（(【〔［[｛{〈《〘〖〚‘“«￥¥＄$＃#〒")
HANGING = frozenset("、。，．,.")
INSEPARABLE = frozenset("…‥—―")

_PROTECTED = re.compile(
    r"H-\d{7}-\d"  # case numbers
    r"|〒?\d{3}-\d{4}(?![\d-])"  # postal codes
    r"|(?:令和|平成|昭和)?(?:\d{1,4}|元)年\d{1,2}月\d{1,2}日"  # dates
    r"|[¥￥]?\d{1,3}(?:,\d{3})+円?|\d+円"  # amounts
    r"|[0-9A-Za-z*＊][0-9A-Za-z*＊._@/:-]*[0-9A-Za-z*＊]|[0-9A-Za-z]"  # ids, numbers, words
)


@dataclass(frozen=True)
class Line:
    text: str
    width: float  # natural width, hanging punctuation included
    hanging: float = 0.0  # width of the punctuation hung past the right edge
    last: bool = False  # the paragraph's last line (not justified)


def atoms(text: str, protect: Iterable[str] = ()) -> list[str]:
    """Cut ``text`` into unbreakable pieces: protected tokens and single characters."""
    extra = sorted({p for p in protect if p and p in text}, key=len, reverse=True)
    result: list[str] = []
    position = 0
    for start, token in _tokens(text, extra):
        result.extend(_chars(text[position:start]))
        result.append(token)
        position = start + len(token)
    result.extend(_chars(text[position:]))
    return result


def _tokens(text: str, extra: list[str]) -> Iterator[tuple[int, str]]:
    """(start, token) of the protected tokens, as one regular expression of ``extra``
    (longest first) then the built-in patterns finds them, but without compiling one:
    every letter protects its own name and numbers, and compiling cost more than the
    line breaking itself."""
    position = 0
    while True:
        found = _PROTECTED.search(text, position)
        start, token = (found.start(), found.group()) if found else (len(text), "")
        builtin = True
        for candidate in extra:  # at the same start the caller's strings come first
            at = text.find(candidate, position)
            if at != -1 and (at < start or (at == start and builtin)):
                start, token, builtin = at, candidate, False
        if not token:
            return
        yield start, token
        position = start + len(token)


def _chars(text: str) -> list[str]:
    pieces: list[str] = []
    for char in text:
        if pieces and char in INSEPARABLE and pieces[-1][-1] == char:
            pieces[-1] += char
        else:
            pieces.append(char)
    return pieces


def _starts_bad(atom: str) -> bool:
    return atom[0] in LINE_START_FORBIDDEN


def _ends_bad(atom: str) -> bool:
    return atom[-1] in LINE_END_FORBIDDEN


def break_lines(text: str, max_width: float, width: Callable[[str], float], *,
                first_indent: float = 0.0, protect: Iterable[str] = (),
                hang: bool = True) -> list[Line]:
    """Break one paragraph (no newlines) into lines no wider than ``max_width``.

    ``width`` measures a string in points with the font that will draw it.
    ``first_indent`` narrows the first line. A protected token wider than a whole
    line is put on a line of its own and overflows rather than being split; so does a
    run of marks that has no legal break (it runs over the right edge). A last
    line of one or two characters (e.g. "す。") takes a little more from the line
    before it.
    """
    pieces = atoms(text, protect)
    widths = [width(p) for p in pieces]

    def limits(index: int) -> float:
        return max_width - (first_indent if index == 0 else 0.0)

    lines = _greedy(pieces, widths, limits, width, hang)
    if len(lines) >= 2 and len(lines[-1].text) <= 2 and len(lines[-2].text) >= 8:
        before = lines[-2]
        target = len(lines) - 2
        narrower = before.width - before.hanging - width(before.text[-2:]) + 1e-3

        def tighter(index: int) -> float:
            return min(limits(index), narrower) if index == target else limits(index)

        retry = _greedy(pieces, widths, tighter, width, hang)
        if (len(retry) == len(lines) and len(retry[-1].text) > 2
                and len(violations(r.text for r in retry)) <= len(
                    violations(r.text for r in lines))):
            lines = retry
    return lines


def _greedy(pieces: list[str], widths: list[float], limits: Callable[[int], float],
            width: Callable[[str], float], hang: bool) -> list[Line]:
    lines: list[Line] = []
    current: list[int] = []  # indexes into pieces
    used = 0.0

    def flush(indexes: list[int], hanging: float = 0.0) -> None:
        body = "".join(pieces[i] for i in indexes).rstrip(" ")
        lines.append(Line(body, width(body), hanging))

    def legal(indexes: list[int], k: int, following: int) -> bool:
        """May the line break before position ``k`` of ``indexes``?"""
        nxt = pieces[indexes[k]] if k < len(indexes) else pieces[following]
        prev = pieces[indexes[k - 1]]
        return not _starts_bad(nxt) and not _ends_bad(prev)

    i = 0
    while i < len(pieces):
        piece, w = pieces[i], widths[i]
        if not current and piece == " ":
            i += 1  # no Latin space at the start of a wrapped line
            continue
        if used + w <= limits(len(lines)) + 1e-6 or not current:
            current.append(i)
            used += w
            i += 1
            continue
        # the piece does not fit: hang it (ぶら下げ) or push characters out (追い出し)
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        if (hang and piece in HANGING and not _ends_bad(pieces[current[-1]])
                and (nxt is None or not _starts_bad(nxt))):
            flush([*current, i], hanging=w)
            current, used = [], 0.0
            i += 1
            continue
        k = len(current)
        while k > 0 and not legal(current, k, i):
            k -= 1
        if k == 0:
            # No legal break on this line (a run of marks such as "日、」"): let the
            # line run over the edge rather than start the next with a forbidden mark.
            current.append(i)
            used += w
            i += 1
            continue
        flush(current[:k])
        current = current[k:]
        while current and pieces[current[0]] == " ":
            current.pop(0)
        used = sum(widths[j] for j in current)
    if current or not lines:
        flush(current)
    if lines:
        lines[-1] = Line(lines[-1].text, lines[-1].width, lines[-1].hanging, last=True)
    return lines


def violations(lines: Iterable[str]) -> list[str]:
    """Kinsoku faults in already broken lines (for tests and self-checks)."""
    faults: list[str] = []
    lines = list(lines)
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        if number > 1 and line[0] in LINE_START_FORBIDDEN:
            faults.append(f"line {number} starts with {line[0]!r}")
        if number < len(lines) and line[-1] in LINE_END_FORBIDDEN:
            faults.append(f"line {number} ends with {line[-1]!r}")
    return faults
