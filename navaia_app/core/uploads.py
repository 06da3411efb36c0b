"""Uploaded files waiting for the form that uses them (a campaign's call list until "Save").

Page state keeps only the file's opaque name: up to 20 MB in Reflex state would travel to Redis and back
on every event of that tab. The files live under MEDIA_DIR/uploads, which every web replica shares (the
`media` volume in docker-compose.yml), so a browser moved to another replica still finds its file. A file
left behind (a tab closed before saving) is removed a day later, when the next one is stored.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

KEEP_SECONDS = 24 * 3600
_NAME = re.compile(r"^[0-9a-f]{32}\.upload$")


def _folder() -> Path:
    from navaia_app.core.settings import get_settings

    folder = Path(get_settings().media_dir).expanduser().resolve() / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _path(name: str) -> Path | None:
    return _folder() / name if _NAME.match(name or "") else None


def stash(content: bytes) -> str:
    """Store `content` (readable by this app's user only); returns the name to keep in page state."""
    folder = _folder()
    cutoff = time.time() - KEEP_SECONDS
    for old in folder.glob("*.upload"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    name = f"{secrets.token_hex(16)}.upload"
    fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return name


def read(name: str) -> bytes | None:
    """The stored content, or None when the name is not one of ours or the file is gone."""
    path = _path(name)
    try:
        return path.read_bytes() if path is not None else None
    except OSError:
        return None


def discard(name: str) -> None:
    path = _path(name)
    if path is not None:
        path.unlink(missing_ok=True)
