"""The checkout's own configuration file, `.env`, written by `make run`.

`make run` serves the demo with debug on, but the commands the docs show
(`python manage.py issue_gate_token ...`) are typed in another shell where nothing is
set, and failed with "DJANGO_SECRET_KEY is required". So `make run`
(scripts/run-portal.sh) writes `.env` once — `DJANGO_DEBUG=1` and a generated
`DJANGO_SECRET_KEY` — and `manage.py` reads it: every command in that checkout sees
the server's configuration. A variable already set in the environment wins over the
file. Production sets its variables and has no such file.

`OPSPORTAL_ENV_FILE` names the file (default: `.env` at the checkout's root); set to
an empty string, no file is read or written (tests that pin the environment).
The format is `NAME=value` lines; blank lines and `#` comments are ignored.

`python -m opsportal.local_env` writes the file if it does not exist yet.
Standard library only: manage.py reads it before Django is imported.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def local_env_path() -> Path | None:
    """The file to read and write, or None when OPSPORTAL_ENV_FILE is empty."""
    raw = os.environ.get("OPSPORTAL_ENV_FILE")
    if raw is None:
        return BASE_DIR / ".env"
    return Path(raw) if raw else None


def parse_local_env(text: str, *, source: str = ".env") -> dict[str, str]:
    """{NAME: value} from `NAME=value` lines. ValueError naming `source` and the line
    number for a line that is not blank, a `#` comment or `NAME=value`."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ValueError(f"{source}:{number}: expected NAME=value, got {line!r}")
        values[name] = value.strip()
    return values


def load_local_env() -> dict[str, str]:
    """Set each variable of the local file that the environment does not already set.
    Returns what was set ({} when there is no file)."""
    path = local_env_path()
    if path is None or not path.is_file():
        return {}
    loaded = {
        name: value
        for name, value in parse_local_env(path.read_text(), source=str(path)).items()
        if name not in os.environ
    }
    os.environ.update(loaded)
    return loaded


def ensure_local_env() -> Path | None:
    """Write the local file for a `make run` checkout unless it exists: debug on and a
    new random secret key, readable by the owner only. Returns the path written, or
    None when the file already existed or OPSPORTAL_ENV_FILE is empty."""
    path = local_env_path()
    if path is None or path.exists():
        return None
    path.write_text(
        "# Written by `make run` (scripts/run-portal.sh) for this checkout only; git-ignored.\n"
        "# manage.py reads it; variables set in the environment win. Never used in production.\n"
        "DJANGO_DEBUG=1\n"
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n"
    )
    path.chmod(0o600)
    return path


if __name__ == "__main__":
    written = ensure_local_env()
    if written is not None:
        sys.stdout.write(f"wrote {written} (debug on, generated secret key)\n")
