"""The monthly report as a PDF with a CJK font embedded (a subset of it, by reportlab).

reportlab embeds TrueType outlines only, so the font is a TrueType CJK font: WenQuanYi Zen Hei
(Debian `fonts-wqy-zenhei`, which `make install` installs when missing), or the file named by
`REPORTING_PDF_FONT_FILE`. Without any, the PDF cannot show Chinese: the export fails loudly.
"""

from __future__ import annotations

import io
import os
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from aftersales_reporting.exports.tables import tables, title_of

FONT = "ReportCJK"
FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


class NoCjkFont(RuntimeError):
    """No TrueType CJK font to embed (install fonts-wqy-zenhei or set REPORTING_PDF_FONT_FILE)."""


@cache
def cjk_font() -> str:
    wanted = os.environ.get("REPORTING_PDF_FONT_FILE")
    for candidate in ([wanted] if wanted else []) + list(FONT_FILES):
        if Path(candidate).is_file():
            pdfmetrics.registerFont(TTFont(FONT, candidate, subfontIndex=0))
            return FONT
    raise NoCjkFont(NoCjkFont.__doc__)


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def pdf_of(report: dict[str, Any]) -> bytes:
    font = cjk_font()
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=title_of(report),
    )
    heading = ParagraphStyle("h", fontName=font, fontSize=16, leading=22)
    section = ParagraphStyle("s", fontName=font, fontSize=12, leading=18)
    story: list[Any] = [Paragraph(title_of(report), heading), Spacer(1, 4 * mm)]
    for table in tables(report):
        story.append(Paragraph(table.title, section))
        grid = Table(
            [table.headers, *[[_text(c) for c in row] for row in table.rows]], repeatRows=1
        )
        grid.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), font, 7 if len(table.headers) > 8 else 9),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6f0")),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ]
            )
        )
        story += [grid, Spacer(1, 5 * mm)]
    document.build(story)
    return out.getvalue()
