from __future__ import annotations

import factory

from opsportal.notifications.models import Notification
from opsportal.notifications.registry import register_notification_kind
from tests.factories import UserFactory

TEST_KIND = "test.happened"
register_notification_kind(TEST_KIND, label="Something happened (tests)")


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    kind = TEST_KIND
    title = factory.Sequence(lambda n: f"Notification {n}")
