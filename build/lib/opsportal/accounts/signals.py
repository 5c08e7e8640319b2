"""Sign-in events go to the audit trail (Django's auth signals are the only hook)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from opsportal.audit.services import audit_record_standalone


@receiver(user_logged_in, dispatch_uid="opsportal.audit_login")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record_standalone(actor=user, event_type="auth.login", obj=user)


@receiver(user_logged_out, dispatch_uid="opsportal.audit_logout")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record_standalone(actor=user, event_type="auth.logout", obj=user)


@receiver(user_login_failed, dispatch_uid="opsportal.audit_login_failed")
def _login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    user = get_user_model().objects.filter(username=username).first()
    audit_record_standalone(
        actor=None,
        event_type="auth.login_failed",
        obj=user,
        metadata={"username": username},
    )


@receiver(user_locked_out, dispatch_uid="opsportal.audit_locked_out")
def _locked_out(sender: Any, request: Any, username: Any, ip_address: Any, **kwargs: Any) -> None:
    # django-axes sends this outside its own transaction, for the attempt that reached
    # the limit and for every attempt while locked out.
    name = str(username or "")[:150]
    user = get_user_model().objects.filter(username=name).first()
    audit_record_standalone(
        actor=None,
        event_type="auth.locked_out",
        obj=user,
        metadata={"username": name, "ip": ip_address},
    )
