"""The Celery application. Tasks live in each app's `tasks.py`; periodic jobs are
declared in one place, `CELERY_BEAT_SCHEDULE` in settings.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")

app = Celery("opsportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
