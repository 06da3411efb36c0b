"""Reading an uploaded CSV file (customer import, campaign call lists) the same way everywhere."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from navaia_app.core.errors import ValidationFailed


def open_csv(content: str | bytes) -> tuple[list[str], Iterator[list[str]]]:
    """The header row and a reader of the rows after it. UTF-8 with or without a BOM; the delimiter
    (comma, semicolon or tab) is sniffed. A file that is not UTF-8, is empty or is not readable CSV
    is refused with a ValidationFailed on the field "file". (Reading the rows may still raise
    csv.Error, which the caller reports with the row it reached.)"""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationFailed("The file is not UTF-8 text. Save it as CSV (UTF-8).", field="file") from exc
    content = content.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(content), dialect)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise ValidationFailed("The file is empty.", field="file") from exc
    except csv.Error as exc:  # e.g. a lone carriage return in the header row
        raise ValidationFailed(f"The file is not readable CSV ({exc}).", field="file") from exc
    return header, reader


# --- writing CSV for spreadsheets -----------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may read as a formula (OWASP's list)


def safe_cell(value) -> str:
    """A cell a spreadsheet shows as text: formula-like text gets a leading apostrophe (so "+1415…" phone
    numbers come out as "'+1415…"), None is empty."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(header: list[str], rows) -> Iterator[str]:
    """The header and each row as CSV text (one string a row, CRLF-terminated), every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def _line(cells) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(cell) for cell in cells])
        return buffer.getvalue()

    yield _line(header)
    for row in rows:
        yield _line(row)
