"""The monthly report as a workbook and as a PDF (one table per report, Chinese headers)."""

from aftersales_reporting.exports.pdf import pdf_of
from aftersales_reporting.exports.xlsx import xlsx_of

__all__ = ["pdf_of", "xlsx_of"]
