"""Date parsing (→ ISO ``YYYY-MM-DD``) and the signature block at the end of a letter."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from .text import fold, normalize_ws

__all__ = [
    "CN_TZ",
    "cn_numeral_to_int",
    "find_signature",
    "parse_date",
    "parse_timestamp",
]

CN_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

_CN_DIGITS = {
    "〇": 0, "○": 0, "零": 0, "O": 0, "o": 0, "0": 0,
    "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip


def cn_numeral_to_int(text: str) -> int | None:
    """``十六`` → 16, ``二十一`` → 21, ``三十`` → 30, ``元`` (month) → 1, ``二〇二五`` → 2025, ``16`` → 16.

    Only the small numbers found in dates and session names are supported (no 百/千).
    """
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if text == "元":
        return 1
    if "十" in text:
        head, _, tail = text.partition("十")
        if "十" in tail:
            return None
        tens = _CN_DIGITS.get(head) if head else 1
        ones = _CN_DIGITS.get(tail) if tail else 0
        if tens is None or ones is None:
            return None
        return tens * 10 + ones
    value = 0
    for ch in text:
        digit = _CN_DIGITS.get(ch)
        if digit is None:
            return None
        value = value * 10 + digit
    return value


_DATE_ISO_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?P<sep>[-/.])\s*(?P<m>\d{1,2})\s*(?P=sep)\s*(?P<d>\d{1,2})(?!\d)"
)
_DATE_AR_RE = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]")
_CN_YEAR = "[〇○零O0一二三四五六七八九]"
_DATE_CN_RE = re.compile(
    rf"(?P<y>{_CN_YEAR}{{4}})\s*年\s*(?P<m>元|十[一二]?|[一二三四五六七八九])\s*月\s*"
    r"(?P<d>三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])\s*[日号]"
)
_COMPACT_RE = re.compile(r"(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)")
_TIMESTAMP_RE = re.compile(r"\d{9,10}(?:\.\d+)?|\d{12,13}")


def _iso(year: int | None, month: int | None, day: int | None) -> str | None:
    if year is None or month is None or day is None:
        return None
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_timestamp(value: float | str) -> str | None:
    """Unix seconds (or milliseconds when > 1e11) → ISO date in China time (UTC+8).

    gkmlpt's ``date``/``create_time`` are midnight Beijing time, i.e. 16:00 UTC the day before.
    """
    try:
        ts = float(value)
    except (TypeError, ValueError):
        return None
    if ts > 1e11:
        ts /= 1000.0
    if not 1e8 <= ts <= 4.2e9:
        return None
    return dt.datetime.fromtimestamp(ts, CN_TZ).date().isoformat()


def parse_date(value: object) -> str | None:
    """Find the first date in ``value`` and return it as ``YYYY-MM-DD``.

    Accepts ``2025-05-07 16:18``, ``2025/5/7``, ``2025.05.07``, ``2025年9月8日``, ``2025年09月08日``,
    ``二〇二五年九月八日``, ``二○二三年十二月三十一日``, a bare ``20250507``, unix timestamps (int,
    float or a string of 9–10 / 12–13 digits) and ``datetime``/``date`` objects. Full-width digits
    and punctuation are folded first. Impossible dates (2025-02-30) give ``None``.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        return parse_timestamp(value)
    if not isinstance(value, str):
        return None
    text = fold(value).strip()
    if not text:
        return None
    if _TIMESTAMP_RE.fullmatch(text):
        return parse_timestamp(text)
    if m := _COMPACT_RE.fullmatch(text):
        return _iso(int(m["y"]), int(m["m"]), int(m["d"]))
    candidates = []
    for regex in (_DATE_ISO_RE, _DATE_AR_RE, _DATE_CN_RE):
        m = regex.search(text)
        if m:
            candidates.append(m)
    for m in sorted(candidates, key=lambda m: m.start()):
        iso = _iso(cn_numeral_to_int(m["y"]), cn_numeral_to_int(m["m"]), cn_numeral_to_int(m["d"]))
        if iso:
            return iso
    return None


# --------------------------------------------------------------------------- signature

_ORG_SUFFIX = r"(?:局|委员会|委|厅|办公室|办|政府|中心|署|院|部|会)"
_ORG_RE = re.compile(rf"[\u4e00-\u9fa5()]{{2,40}}?{_ORG_SUFFIX}")
_DATE_LINE_RE = re.compile(
    r"(?:(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    rf"|{_CN_YEAR}{{4}}\s*年\s*[元一二三四五六七八九十]{{1,2}}\s*月\s*[一二三四五六七八九十]{{1,3}}\s*日)"
)
_LONE_DATE_WINDOW = 6  # a date line without an org line counts only this close to the end
# The attachments printed after the letter start with a heading ``附件1：…`` / ``附件`` / ``附件2``.
_ATTACHMENT_HEAD_RE = re.compile(r"附\s*件\s*(?:\d{1,2}|[一二三四五六七八九十]{1,2})?\s*(?::.{0,80})?")


def _org_of(line: str) -> str | None:
    """The signing organisation if ``line`` is nothing but one (or several, space-separated)."""
    parts = fold(line).split()
    if parts and all(_ORG_RE.fullmatch(p) for p in parts):
        # Joint replies list several orgs; the first one is the lead handler.
        return line.split()[0]
    return None


def _date_of(line: str) -> str | None:
    folded = fold(line).strip()
    if _DATE_LINE_RE.fullmatch(folded):
        return parse_date(folded)
    return None


def find_signature(paragraphs: Sequence[str]) -> tuple[str | None, str | None]:
    """Return ``(org, iso_date)`` of the letter's signature block.

    A signature block is an organisation line (ending in 局/委员会/厅/办公室/政府/中心/…) followed
    by a line that is only a date (blank lines in between are skipped; trailing EN/EM-space
    padding as on Ningde pages is ignored). ``org date`` on one line is accepted too. The block
    is the **last** one in the text, unless a block is directly followed by an attachment heading
    (``附件1：…``): the signature date is not always at the end, and the attachment printed after the
    letter may carry dates of its own. When no block exists, a lone date line near the end gives
    ``(None, date)``; otherwise ``(None, None)``.
    """
    paras = list(paragraphs)

    def neighbour(i: int, step: int) -> str:  # the nearest non-empty line before/after paragraph i
        i += step
        while 0 <= i < len(paras):
            line = normalize_ws(paras[i])
            if line:
                return line
            i += step
        return ""

    blocks: list[tuple[int, str, str]] = []  # (index of the block's last paragraph, org, date)
    for i, para in enumerate(paras):
        if not para.rstrip().endswith("日"):  # a date line, or ``org date``, ends in 日: skip the rest cheaply
            continue
        line = normalize_ws(para)
        date = _date_of(line)
        if date and (org := _org_of(neighbour(i, -1))):
            blocks.append((i, org, date))
            continue
        head, _, tail = line.rpartition(" ")  # ``中山市医疗保障局 2025年9月8日`` on one line
        if head and (date := _date_of(tail)) and (org := _org_of(head)):
            blocks.append((i, org, date))
    for end, org, date in blocks:
        if _ATTACHMENT_HEAD_RE.fullmatch(fold(neighbour(end, 1))):
            return org, date
    if blocks:
        return blocks[-1][1], blocks[-1][2]
    seen = 0
    for para in reversed(paras):
        line = normalize_ws(para)
        if not line:
            continue
        date = _date_of(line)
        if date:
            return None, date
        seen += 1
        if seen >= _LONE_DATE_WINDOW:
            break
    return None, None
