"""Tables for people: a rich table on a terminal, plain full-width columns everywhere else.

Off a terminal (a pipe, a file, ``watch``, a cron mail) nothing is cut to 80 columns: every cell is printed
whole, columns padded to their widest cell (CJK characters count two columns), two spaces between them.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Sequence
from typing import IO

__all__ = ["cells", "print_table"]


def cells(text: str) -> int:
    """Terminal columns of ``text`` (East Asian wide and full-width characters are two wide)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - cells(text))
    return fill + text if right else text + fill


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]], *,
                right: Sequence[str] = (), stream: IO[str] | None = None) -> None:  # fmt: skip
    """``rows`` of strings under ``headers``; the columns named in ``right`` are right-aligned."""
    out = stream or sys.stdout
    if out.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for header in headers:
            table.add_column(header, justify="right" if header in right else "left")
        for row in rows:
            table.add_row(*row)
        Console(file=out).print(table)
        return
    widths = [max([cells(h), *(cells(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    aligned = [h in right for h in headers]
    for line in (headers, *rows):
        text = "  ".join(_pad(v, w, r) for v, w, r in zip(line, widths, aligned, strict=True))
        print(text.rstrip(), file=out)
