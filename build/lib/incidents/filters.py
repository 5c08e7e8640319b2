"""The incident list's filters (django-filter), shared by the browser list and the API."""

from __future__ import annotations

import re

import django_filters
from django.db.models import Q, QuerySet

from incidents.models import FINISHED_STATUSES, OPEN_STATUSES, Incident, Status
from incidents.severity import SEVERITY_CHOICES

# A whole incident reference (`INC-YYYYMMDD-NNN`, any case, surrounding blanks ignored).
REFERENCE_RE = re.compile(r"INC-\d{8}-\d{3,}", re.IGNORECASE)


class IncidentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="filter_text")
    state = django_filters.ChoiceFilter(
        label="Open or finished",
        choices=[("open", "Open"), ("finished", "Resolved, closed or declined")],
        method="filter_state",
        empty_label="Any",
    )
    status = django_filters.ChoiceFilter(label="Status", choices=Status.choices, empty_label="Any")
    severity = django_filters.ChoiceFilter(
        label="Severity", choices=SEVERITY_CHOICES, empty_label="Any"
    )

    class Meta:
        model = Incident
        fields = ["q", "state", "status", "severity"]

    def filter_text(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet:
        """`q`: a whole reference finds that incident by its unique index; any other
        text is a case-insensitive substring of the reference, title, summary or
        affected systems (on PostgreSQL each column has a trigram index that serves
        this `icontains`, see migration 0003; SQLite scans)."""
        value = value.strip()
        if not value:
            return queryset
        if REFERENCE_RE.fullmatch(value):
            return queryset.filter(reference=value.upper())
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(title__icontains=value)
            | Q(summary__icontains=value)
            | Q(affected_systems__icontains=value)
        )

    def filter_state(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet:
        if value == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        if value == "finished":
            return queryset.filter(status__in=FINISHED_STATUSES)
        return queryset
