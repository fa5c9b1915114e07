"""Detail-page URL shapes of the CMS families: what a URL says about its page.

A bureau's article URL may carry the full publication date (TRS ``t20230106_…``, Hanweb
``/art/2021/10/25/…``, Sichuan ``/2025/5/7/<hex>.shtml``), only the year (newer Hanweb/Zhejiang and
the Gansu platform ``/art/2024/art_<hex>.html``), a timestamp (county portals ``News/Detail/<ts>.html``)
or nothing (gkmlpt/NFCMS ``post_<id>``, Jiangsu ``content/<uuid>``, ``show-<id>.html``). Mobile copies
live beside the desktop page (TRS ``…_wap.html``, NFCMS ``mpost_<id>``); :func:`desktop_url` maps them
back. Pure string work, no network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from .dates import parse_date, parse_timestamp

__all__ = ["ARTICLE_SHAPES", "ArticleUrl", "desktop_url", "is_article_url", "parse_article_url"]

_HEX32 = r"[0-9a-fA-F]{32}"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# (shape, path regex). Groups: y/m/d (date parts), year (year only), ts (timestamp), mobile.
ARTICLE_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # TRS WCM: …/202301/t20230106_2713432.htm, .html, .shtml, and the mobile copy …_wap.html
    ("trs", re.compile(r"/t(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})_\d+(?P<mobile>_wap)?\.s?html?$")),
    # Hanweb JCMS: /art/2021/10/25/art_110_7245.html (also under /jcms_files/…/site/)
    ("hanweb", re.compile(r"/art/(?P<y>(?:19|20)\d{2})/(?P<m>\d{1,2})/(?P<d>\d{1,2})/art_\d+_\d+\.html$")),
    # newer Hanweb / Zhejiang / Gansu platform: /art/2024/art_<32 hex>.html (year only)
    ("hanweb_year", re.compile(rf"/art/(?P<year>(?:19|20)\d{{2}})/art_{_HEX32}\.html$")),
    # Sichuan .shtml columns: /2025/5/7/<32 hex>.shtml
    ("sichuan", re.compile(rf"/(?P<y>(?:19|20)\d{{2}})/(?P<m>\d{{1,2}})/(?P<d>\d{{1,2}})/{_HEX32}\.shtml$")),
    # Guangdong gkmlpt: /gkmlpt/content/5/5511/post_5511415.html (mobile mpost_)
    ("gkmlpt", re.compile(r"/gkmlpt/content/\d+/\d+/(?P<mobile>m)?post_\d+\.html$")),
    # Guangdong NFCMS column article: …/content/post_2166613.html (mobile mpost_)
    ("nfcms", re.compile(r"/content/(?P<mobile>m)?post_\d+\.html$")),
    # Jiangsu platform: /ntsylbzj/xwfbh/content/<uuid>.html
    ("jiangsu", re.compile(rf"/content/(?:{_UUID}|{_HEX32})\.html$")),
    # county portals: show-<id>.html, xxgk-show-<id>.html
    ("show", re.compile(r"/(?:\w+-)?show-\d+\.s?html?$")),
    # county portals: News/Detail/<timestamp>.html (YYYYMMDDhhmmss, or unix seconds / milliseconds)
    ("news_detail", re.compile(r"/news/detail/(?P<ts>\d{8,17})\.s?html?$", re.I)),
    # county 信息公开 modules: module/xxgk/*.jsp?…area=<credit code>
    ("xxgk_jsp", re.compile(r"/module/xxgk/\w+\.jsp$")),
)


@dataclass(frozen=True)
class ArticleUrl:
    """What a detail URL says: its ``shape`` (see ``ARTICLE_SHAPES``), the publication ``date`` (ISO)
    when the URL carries a full one, the ``year`` when it carries at least that, and whether it is
    a ``mobile`` copy."""

    shape: str
    date: str | None
    year: int | None
    mobile: bool


def _timestamp_date(ts: str) -> str | None:
    if len(ts) in (8, 12, 14, 17):  # YYYYMMDD[hhmm[ss[fff]]]
        return parse_date(ts[:8])
    return parse_timestamp(ts)


def parse_article_url(url: str | None) -> ArticleUrl | None:
    """Recognise a detail URL of a known shape; ``None`` for anything else (lists, home pages)."""
    if not url:
        return None
    parts = urlsplit(url)
    path = parts.path
    for shape, regex in ARTICLE_SHAPES:
        m = regex.search(path)
        if not m:
            continue
        if shape == "xxgk_jsp" and "area=" not in parts.query:
            continue
        groups = m.groupdict()
        date = None
        if groups.get("y"):
            date = parse_date(f"{groups['y']}-{groups['m']}-{groups['d']}")
        elif groups.get("ts"):
            date = _timestamp_date(groups["ts"])
        year = int(date[:4]) if date else (int(groups["year"]) if groups.get("year") else None)
        return ArticleUrl(shape=shape, date=date, year=year, mobile=bool(groups.get("mobile")))
    return None


def is_article_url(url: str | None) -> bool:
    """True for a detail URL of any known shape."""
    return parse_article_url(url) is not None


_WAP_RE = re.compile(r"_wap(\.s?html?)$")
_MPOST_RE = re.compile(r"/mpost_(\d+\.html)$")


def desktop_url(url: str) -> str:
    """The desktop page of a mobile copy (``…_wap.html`` → ``….html``, ``mpost_`` → ``post_``); other
    URLs unchanged."""
    parts = urlsplit(url)
    path = _MPOST_RE.sub(r"/post_\1", _WAP_RE.sub(r"\1", parts.path))
    if path == parts.path:
        return url
    return urlunsplit(parts._replace(path=path))
