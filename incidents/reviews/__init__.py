"""Post-incident reviews (issue 10): the review of a resolved incident (five whys,
contributing factors mapped to control objectives, lessons), its action items, the
two-person sign-off that approves it, and the deadline job.

models.py (PostIncidentReview, ActionItem; registered in the incidents app),
content.py (what is signed and its hash), services.py (every write), signing.py (the
sign-off adapter, registered by IncidentsConfig.ready), selectors.py (reads for the
pages and the API), notify.py (the one function that tells people a deadline passed),
tasks.py (the Celery beat job), forms.py / views.py / api.py / serializers.py.
"""
