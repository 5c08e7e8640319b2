"""Admin for sign-offs: read-only (a sign-off is made by `signoff_sign`, never edited)."""

from django.contrib import admin

from opsportal.core.admin_mixins import ReadOnlyAdminMixin
from opsportal.signoffs.models import Signoff


@admin.register(Signoff)
class SignoffAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("target_type", "target_id", "role", "signer", "signed_at", "voided_at")
    list_filter = ("role", "target_type")
    list_select_related = ("target_type", "signer")
