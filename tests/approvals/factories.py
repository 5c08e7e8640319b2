"""Factories for approvals tests."""

from __future__ import annotations

import factory

from opsportal.approvals.models import ApprovalPolicy


class ApprovalPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApprovalPolicy
        django_get_or_create = ("action",)

    action = "test_action"
    description = "Test action"
    approvals_required = 1
    eligible_groups = factory.LazyFunction(lambda: ["operator", "risk_officer"])
    expiry_seconds = 3600
