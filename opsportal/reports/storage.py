"""Report files under MEDIA_ROOT: `reports/<id>/report-<id>.<format>`.

The name depends only on the report and the format, so generating a report again
replaces its files instead of adding more. Each file is written to a temporary name
in the same directory, flushed to disk, then renamed into place (`os.replace` is
atomic on one file system): a reader, or a worker that died mid-write, never leaves a
half-written file under the final name. Temporary files left by a killed worker are
removed by the next run (`discard_temporaries`).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

TMP_MARK = ".tmp-"


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to MEDIA_ROOT
    sha256: str
    size: int


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def report_dir(report_id: int) -> Path:
    return media_root() / "reports" / str(report_id)


def relative_path(report_id: int, fmt: str) -> str:
    return f"reports/{report_id}/report-{report_id}.{fmt}"


def absolute(path: str) -> Path:
    """The file for a stored relative path, refusing anything outside MEDIA_ROOT."""
    root = media_root().resolve()
    full = (root / path).resolve()
    if root not in full.parents:
        raise ValueError(f"{path!r} is outside the media root")
    return full


def discard_temporaries(report_id: int) -> int:
    """Remove temporary files a previous, interrupted run left; how many."""
    folder = report_dir(report_id)
    if not folder.is_dir():
        return 0
    stale = [p for p in folder.iterdir() if TMP_MARK in p.name]
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)


def write_temporary(report_id: int, fmt: str, content: bytes) -> Path:
    """Write `content` next to its final place under a unique temporary name."""
    final = media_root() / relative_path(report_id, fmt)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f"{final.name}{TMP_MARK}{uuid.uuid4().hex}")
    with open(tmp, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    return tmp


def move_into_place(report_id: int, fmt: str, tmp: Path) -> StoredFile:
    """Rename `tmp` to the format's final name (replacing an older file) and return
    the stored file's path, SHA-256 and size, read back from disk."""
    rel = relative_path(report_id, fmt)
    final = media_root() / rel
    os.replace(tmp, final)
    data = final.read_bytes()
    return StoredFile(path=rel, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def file_sha256(path: str) -> str:
    return hashlib.sha256(absolute(path).read_bytes()).hexdigest()
