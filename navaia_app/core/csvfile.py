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


# The one limit on an uploaded file, from the page or the REST API, customer import and call lists alike.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_LABEL = "20 MB"
MAX_ROWS = 50_000  # rows per file; a larger file is cut there and the rest reported, not lost silently

# What a header cell may say for each column we understand (compared lowercased, trimmed).
COLUMN_ALIASES: dict[str, frozenset[str]] = {
    "name": frozenset({"name", "full name", "full_name", "customer", "customer name", "customer_name"}),
    "phone": frozenset({"phone", "phone number", "phone_number", "mobile", "tel", "telephone", "number"}),
    "email": frozenset({"email", "e-mail", "email address", "mail"}),
    "timezone": frozenset({"timezone", "time zone", "time_zone", "tz"}),
    "customer_id": frozenset({"customer_id", "customer id", "id"}),
    "do_not_call": frozenset({"do_not_call", "do not call", "dnc"}),
    "notes": frozenset({"notes", "note", "comment", "comments"}),
}


def column_role(title: str, roles: tuple[str, ...] | frozenset[str] | None = None) -> str | None:
    """Which of `roles` (default: every known column) a header cell names, or None."""
    key = title.strip().lower()
    for role, aliases in COLUMN_ALIASES.items():
        if (roles is None or role in roles) and key in aliases:
            return role
    return None


def match_columns(header: list[str], roles: tuple[str, ...] | frozenset[str] | None = None) -> dict[str, int]:
    """role -> index of the first header cell that names it (a repeated column is left for the caller)."""
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        role = column_role(title, roles)
        if role and role not in columns:
            columns[role] = index
    return columns


def check_upload_size(content: bytes | str) -> None:
    """Refuse a file over MAX_UPLOAD_BYTES (ValidationFailed on the field "file")."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(f"The file is larger than {MAX_UPLOAD_LABEL}.", field="file")
