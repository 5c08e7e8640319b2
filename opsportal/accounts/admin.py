from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import transaction

from opsportal.accounts.models import User
from opsportal.accounts.services import (
    user_admin_save_in_transaction,
    user_password_changed_audit_in_transaction,
    user_roles_audit_in_transaction,
)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    """Django's user admin, with every save and role change on the audit trail."""

    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "groups")

    def save_model(self, request: Any, obj: User, form: Any, change: bool) -> None:
        # The admin's change form runs in its own transaction: compose into it.
        user_admin_save_in_transaction(
            actor=request.user, user=obj, created=not change, changed_fields=form.changed_data
        )

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        user = form.instance
        before = set(user.groups.values_list("name", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        user_roles_audit_in_transaction(actor=request.user, user=user, before=before)

    def user_change_password(self, request: Any, id: str, form_url: str = "") -> Any:
        # The stock view saves the form itself; run it in one transaction with the
        # audit event so a password set here is always on the trail.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user_password_changed_audit_in_transaction(actor=request.user, user_id=int(id))
        return response
