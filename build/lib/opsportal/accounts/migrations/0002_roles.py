"""Create the five role groups with their permissions (see accounts/roles.py).

The post_migrate handler re-applies the same grants after every migrate, so
permissions added by later migrations reach their roles too.
"""

from django.db import migrations


def create_roles(apps, schema_editor):
    from opsportal.accounts.roles import sync_roles

    sync_roles(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
