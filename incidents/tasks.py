"""Celery tasks of the incidents app (Celery's autodiscovery imports `<app>.tasks`)."""

from incidents.reviews.tasks import review_create_task, reviews_overdue_task

__all__ = ["review_create_task", "reviews_overdue_task"]
