"""One table of CSV column names and one size limit for every upload: the customer import and a
campaign's call list read the same headers the same way (they used to disagree: "number" and
"customer_name" worked for one and not the other)."""

from __future__ import annotations

import pytest

from navaia_app.campaigns.service import parse_audience_csv
from navaia_app.core.csvfile import MAX_UPLOAD_BYTES, check_upload_size, match_columns
from navaia_app.core.errors import ValidationFailed

HEADER = ["Customer_Name", " Number ", "E-mail", "Time Zone", "Notes", "offer"]


def test_both_uploads_read_the_same_header_the_same_way():
    assert match_columns(HEADER) == {"name": 0, "phone": 1, "email": 2, "timezone": 3, "notes": 4}
    parsed = parse_audience_csv(",".join(HEADER) + "\nAda,+14155550123,ada@example.com,Europe/Paris,vip,10%\n")
    assert parsed.rows == [{"phone": "+14155550123", "name": "Ada", "email": "ada@example.com",
                            "timezone": "Europe/Paris", "variables": {"notes": "vip", "offer": "10%"}}]


def test_one_size_limit_for_every_upload():
    check_upload_size(b"x" * MAX_UPLOAD_BYTES)
    for refuse in (lambda: check_upload_size(b"x" * (MAX_UPLOAD_BYTES + 1)),
                   lambda: parse_audience_csv(b"phone\n" + b"+14155550123\n" * (MAX_UPLOAD_BYTES // 13 + 1))):
        with pytest.raises(ValidationFailed) as caught:
            refuse()
        assert caught.value.message == "The file is larger than 20 MB." and caught.value.errors == {
            "file": "The file is larger than 20 MB."}
