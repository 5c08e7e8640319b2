from __future__ import annotations

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A person using the portal. Roles are Django groups (see accounts/roles.py)."""

    # django-stubs declares no AbstractUser.Meta; Django's docs extend it for a custom user.
    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        swappable = "AUTH_USER_MODEL"

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.get_username()

    def has_role(self, role: str) -> bool:
        """True if the user is in the group `role` (one of roles.ROLES)."""
        return self.groups.filter(name=role).exists()
