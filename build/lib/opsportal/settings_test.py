"""Settings for the test suite: the real settings with test defaults.

The suite runs on PostgreSQL and Redis (DATABASE_URL and REDIS_URL below, unless
set); Celery runs tasks in-process unless a test starts a real worker.
"""

import os

os.environ.setdefault(
    "DJANGO_SECRET_KEY", "opsportal-test-secret-key-not-for-production-0123456789"
)
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/opsportal")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "0")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

from opsportal.settings import *  # noqa: E402,F403

# Password hashing dominates the runtime of a suite that signs in hundreds of times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
