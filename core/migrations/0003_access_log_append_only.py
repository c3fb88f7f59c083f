"""On PostgreSQL the database itself refuses to change or remove access-log rows.

TRUNCATE is left to the table's owner (the test runner empties tables that way); the
application's database role should not own the tables in production.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION core_access_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The access log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_access_log_append_only
    BEFORE UPDATE OR DELETE ON core_accesslogentry
    FOR EACH ROW EXECUTE FUNCTION core_access_log_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS core_access_log_append_only ON core_accesslogentry;
DROP FUNCTION IF EXISTS core_access_log_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_access_log")]

    operations = [migrations.RunPython(forwards, backwards)]
