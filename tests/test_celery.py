from django.conf import settings

from opsportal.celery import app


def test_every_periodic_job_names_a_registered_task():
    app.loader.import_default_modules()

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)
