"""The PostgreSQL login role of the centre server: exactly the grants it needs.

The tables belong to the owner (who runs ``hosho db upgrade``); the server's role
owns nothing, so it cannot ALTER, DROP or TRUNCATE a table, nor disable, drop or
replace a trigger or its function (PostgreSQL allows those to owners only), and it
holds no TRUNCATE, TRIGGER or REFERENCES privilege. On the audit trail it may only
INSERT and SELECT; on the chain's head row only what app.services.audit needs
(SELECT … FOR UPDATE and an UPDATE of its two columns).
"""

from __future__ import annotations

import re

from sqlalchemy import String, text
from sqlalchemy.engine import Connection

from app.core.errors import UserError, ValidationError
from app.domain.audit_chain import GENESIS
from app.storage.models import metadata

AUDIT_TRAIL = "audit_event"
AUDIT_HEAD = "audit_head"
READ_ONLY = ("alembic_version",)
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_role_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValidationError("server-role",
                              f"ロール名は英小文字・数字・_ で指定してください: {name}",
                              f"Role names are lower-case letters, digits and _: {name}")
    return name


def statements(role: str, password_literal: str | None, owner: str) -> list[str]:
    """What makes (or brings back to) the server role's grants, in order."""
    if role == owner:
        raise UserError("サーバーのロールは所有者と別にしてください。",
                        "The server's role must not be the owner of the tables.")
    login = f" PASSWORD {password_literal}" if password_literal else ""
    out = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
        f"THEN CREATE ROLE {role} LOGIN; END IF; END $$",
        f"ALTER ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
        f"NOBYPASSRLS{login}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}",
        f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM {role}",
        f"REVOKE CREATE ON SCHEMA public FROM {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ]
    for table in metadata.sorted_tables:
        name = table.name
        if name == AUDIT_TRAIL:
            out.append(f"GRANT SELECT, INSERT ON {name} TO {role}")
        elif name == AUDIT_HEAD:
            out.append(f"GRANT SELECT, UPDATE (seq, hash) ON {name} TO {role}")
        else:
            out.append(f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{name}" TO {role}')
    out += [f"GRANT SELECT ON {name} TO {role}" for name in READ_ONLY]
    return out


def apply(conn: Connection, role: str, password: str | None) -> list[str]:
    """Create or update the role on the owner's connection; returns the statements
    (without the password) for the record."""
    if conn.dialect.name != "postgresql":
        raise UserError("ロールは PostgreSQL のデータベースにだけ作れます。",
                        "Roles are for a PostgreSQL database only.")
    check_role_name(role)
    literal = String().literal_processor(conn.dialect)(password) if password else None
    owner = conn.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = 'operator'"
                              )).scalar()
    if owner is None:
        raise UserError("先に `hosho db upgrade` で表を作ってください。",
                        "Run `hosho db upgrade` first: the tables are missing.")
    # The server may update the chain's head row, not create it: the owner makes sure
    # it is there (as app.services.audit.lock_head would on a database without one).
    conn.execute(text(f"INSERT INTO {AUDIT_HEAD} (id, seq, hash) SELECT 1, 0, :genesis "
                      f"WHERE NOT EXISTS (SELECT 1 FROM {AUDIT_HEAD})"), {"genesis": GENESIS})
    done = []
    for statement in statements(role, literal, owner):
        conn.exec_driver_sql(statement)
        done.append(statement.replace(literal, "'…'") if literal else statement)
    return done
