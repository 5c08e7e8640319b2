"""The Celery application. Periodic jobs are declared in each app's `tasks.py` and
registered in django-celery-beat by `python manage.py sync_schedules` (one place)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")

app = Celery("opsportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
