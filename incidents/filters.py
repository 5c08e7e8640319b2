"""The incident list's filters (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from incidents.models import FINISHED_STATUSES, OPEN_STATUSES, Incident, Status
from incidents.severity import SEVERITY_CHOICES


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
        value = value.strip()
        if not value:
            return queryset
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
