from __future__ import annotations

import factory

from opsportal.notifications.models import Notification, WebhookEndpoint
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


URGENT_KIND = "test.urgent"
register_notification_kind(URGENT_KIND, label="Something urgent (tests)", email_default=True)


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    name = factory.Sequence(lambda n: f"team-channel-{n}")
    url = "http://127.0.0.1:9/hooks"
    secret = "test-webhook-secret"
