"""The monthly report as an XLSX workbook: one sheet per report, numbers stored as numbers."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from aftersales_reporting.exports.tables import tables, title_of


def xlsx_of(report: dict[str, Any]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for table in tables(report):
        sheet = book.create_sheet(table.title)
        sheet.append([title_of(report)])
        sheet.append(table.headers)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(row)
        for column in sheet.columns:
            letter = column[0].column_letter
            sheet.column_dimensions[letter].width = 16 if letter != "A" else 26
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
