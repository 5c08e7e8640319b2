"""opsportal: the operations portal for algorithmic trading teams."""

from opsportal.celery import app as celery_app

__all__ = ["celery_app"]
