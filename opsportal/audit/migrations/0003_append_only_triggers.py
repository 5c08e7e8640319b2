"""PostgreSQL triggers that make the audit trail append-only (docs/audit.md).

Plain SQL rather than django-pgtrigger: one small function with two exceptions of
our own (the sealer's one-time write of seq/prev_hash/hash on an unsealed event, and
the governed purge through the last recorded AuditPurge), which is clearer written
out than expressed through a library's conditions, and needs no dependency.
SQLite (the quick start) gets no triggers: the ORM guards in models.py remain.
"""

from django.db import migrations

TABLES = ("audit_auditevent", "audit_auditcheckpoint", "audit_auditpurge")

FUNCTION = r"""
CREATE OR REPLACE FUNCTION opsportal_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- Test databases are emptied between tests (settings_test.py sets this).
        IF current_setting('opsportal.audit_allow_truncate', true) = 'on' THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'audit_auditevent' THEN
        -- The sealer links a committed event into the chain exactly once.
        IF OLD.seq IS NULL AND NEW.seq IS NOT NULL
           AND (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash')
               = (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash') THEN
            RETURN NEW;
        END IF;
    ELSIF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_auditevent' THEN
        -- A governed purge (audit_purge, four-eyes) removes events through its anchor.
        IF OLD.seq IS NOT NULL
           AND OLD.seq <= (SELECT COALESCE(MAX(through_seq), -1) FROM audit_auditpurge) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'the audit trail is append-only: ' || TG_OP || ' on ' || TG_TABLE_NAME
            || ' is refused';
END;
$$;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION opsportal_audit_append_only()"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION opsportal_audit_append_only()"
        )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS opsportal_audit_append_only()")


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_chain")]

    operations = [migrations.RunPython(install, uninstall)]
