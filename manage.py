#!/usr/bin/env python
"""Django's command-line utility for opsportal."""

import os
import sys

from opsportal.local_env import load_local_env


def main() -> None:
    # The checkout's .env, written by `make run`: commands typed in another shell see
    # the same configuration as the demo server (opsportal/local_env.py).
    load_local_env()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
