from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import transaction

from opsportal.accounts.models import User
from opsportal.accounts.services import (
    user_access_change_check,
    user_admin_save_in_transaction,
    user_password_changed_audit_in_transaction,
    user_roles_change_in_transaction,
)
from opsportal.core.errors import NotPermitted


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    """Django's user admin, with every save and role change on the audit trail."""

    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "groups")
    # Access is given by roles (groups) only: no per-user permissions to hand out
    # around the four-eyes grant of privileged roles (issue 14 item 5).
    fieldsets = tuple(
        (name, {**opts, "fields": tuple(f for f in opts["fields"] if f != "user_permissions")})
        for name, opts in UserAdmin.fieldsets or ()
    )
    filter_horizontal = ("groups",)

    def get_form(self, request: Any, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        base = super().get_form(request, obj, change=change, **kwargs)
        actor = request.user

        class AccessCheckedForm(base):  # type: ignore[valid-type,misc]  # built at runtime
            def clean(self) -> Any:
                cleaned = super().clean()
                try:
                    user_access_change_check(
                        actor=actor, user=self.instance, fields=self.changed_data
                    )
                except NotPermitted as exc:
                    raise ValidationError(exc.message, code=exc.code) from exc
                return cleaned

        return AccessCheckedForm

    def save_model(self, request: Any, obj: User, form: Any, change: bool) -> None:
        # Superuser status is granted in save_related, with the roles (four-eyes):
        # save the row with the flag it has now.
        obj.is_superuser = (
            User.objects.filter(pk=obj.pk).values_list("is_superuser", flat=True).get()
            if change
            else False
        )
        # The admin's change form runs in its own transaction: compose into it.
        user_admin_save_in_transaction(
            actor=request.user,
            user=obj,
            created=not change,
            changed_fields=[f for f in form.changed_data if f != "is_superuser"],
        )

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        user = form.instance
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
        groups = form.cleaned_data.get("groups")
        asked = user_roles_change_in_transaction(
            actor=request.user,
            user=user,
            roles=[group.name for group in groups] if groups is not None else [],
            superuser=bool(form.cleaned_data.get("is_superuser", False)),
        )
        for made in asked:
            self.message_user(request, made, messages.WARNING)

    def user_change_password(self, request: Any, id: str, form_url: str = "") -> Any:
        # The stock view saves the form itself; run it in one transaction with the
        # audit event so a password set here is always on the trail.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user_password_changed_audit_in_transaction(actor=request.user, user_id=int(id))
        return response
