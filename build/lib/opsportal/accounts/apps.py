from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "opsportal.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        # Imports wait for ready(): the app registry must be loaded first.
        from opsportal.accounts import roles, signals  # noqa: F401 - signals connect on import
        from opsportal.accounts.permissions import ROLE_GRANTS
        from opsportal.audit.permissions import ROLE_GRANTS as AUDIT_ROLE_GRANTS

        roles.register_role_grants(self.label, ROLE_GRANTS)
        # The audit app sits below accounts and cannot register its own grants.
        roles.register_role_grants("audit", AUDIT_ROLE_GRANTS)
        # Keep the role groups' permissions in step with the code after every
        # migrate (and after the test runner's flush, which re-emits post_migrate).
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="opsportal.sync_roles")
