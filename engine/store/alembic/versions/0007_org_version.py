"""organisation version token, kept by triggers

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

engine.org_cache answers organisation lookups from memory while `setting.org_version` is unchanged.
Triggers give it a new random value in the same transaction as any change to users, departments,
roles, role members or delegations — whichever process or tool makes the change.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("user_account", "department", "role", "user_role", "delegation")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    token = "lower(hex(randomblob(16)))" if sqlite else "md5(random()::text || clock_timestamp()::text)"
    op.execute("DELETE FROM setting WHERE key = 'org_version'")
    op.execute(f"INSERT INTO setting (key, value) VALUES ('org_version', {token})")
    bump = f"UPDATE setting SET value = {token} WHERE key = 'org_version'"
    if sqlite:
        for table in TABLES:
            for action in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER org_version_{table}_{action.lower()} AFTER {action} ON {table} BEGIN {bump}; END"
                )
    else:
        op.execute(
            f"CREATE FUNCTION oaflow_org_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {bump}; "
            "RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER org_version_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION oaflow_org_changed()"
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in TABLES:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS org_version_{table}_{action}")
    else:
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS org_version_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS oaflow_org_changed()")
    op.execute("DELETE FROM setting WHERE key = 'org_version'")
