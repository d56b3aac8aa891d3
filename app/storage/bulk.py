"""Writing many rows at once on a session's connection, in its transaction.

An import writes hundreds of thousands of rows; SQLAlchemy's per-row work for
an ``insert()`` executed with a list of dicts (compiling parameters, typing
each value) costs more than the database's own. Here each column's type is
looked up once, values go through it only where the type converts them, and
the rows go to the driver's ``executemany`` as tuples.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError


class BulkInsert:
    """``INSERT INTO table (columns) VALUES (...)`` for rows given as tuples in column order.

    Values pass through their column's type (aware datetimes to UTC, dates on
    SQLite), so the stored form is the same as an ORM insert's.
    """

    def __init__(self, connection: Connection, table: Table, columns: Sequence[str]) -> None:
        dialect = connection.dialect
        self.connection = connection
        self.columns = tuple(columns)
        processors = [_processor(table.c[name], dialect) for name in self.columns]
        # Remembered per column: the same time (the import's "now") fills most rows.
        self.converted = [(i, _remembering(p)) for i, p in enumerate(processors)
                          if p is not None]
        quote = dialect.identifier_preparer.quote
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        names = ", ".join(quote(name) for name in self.columns)
        self.sql = (f"INSERT INTO {quote(table.name)} ({names}) "
                    f"VALUES ({', '.join([marker] * len(self.columns))})")
        # PostgreSQL: COPY, one stream instead of a statement a row (triggers still fire).
        self.copy_sql = (f"COPY {quote(table.name)} ({names}) FROM STDIN"
                         if dialect.name == "postgresql" else None)

    def run(self, rows: Iterable[Sequence[Any]]) -> int:
        """Insert ``rows``; how many were written."""
        return self.run_converted(self.convert(rows))

    def convert(self, rows: Iterable[Sequence[Any]]) -> list[tuple]:
        """``rows`` as the driver takes them (each value through its column's type): a
        writer may prepare its rows before it takes the write lock."""
        return [self._convert(row) for row in rows] if self.converted else [
            tuple(row) for row in rows]

    def run_converted(self, ready: list[tuple]) -> int:
        """Insert rows already ``convert``-ed (by a BulkInsert on the same dialect)."""
        if ready and self.copy_sql:
            self._copy(ready)
        elif ready:
            self.connection.exec_driver_sql(self.sql, ready)
        return len(ready)

    def _copy(self, rows: list[tuple]) -> None:
        dbapi = self.connection.dialect.dbapi
        cursor = self.connection.connection.dbapi_connection.cursor()
        try:
            with cursor.copy(self.copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except dbapi.Error as exc:  # as SQLAlchemy would have raised it (IntegrityError, ...)
            raise DBAPIError.instance(self.copy_sql, None, exc, dbapi.Error) from exc
        finally:
            cursor.close()

    def _convert(self, row: Sequence[Any]) -> tuple:
        values = list(row)
        for index, convert in self.converted:
            if values[index] is not None:
                values[index] = convert(values[index])
        return tuple(values)


def reserve_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """``count`` primary keys for rows about to be inserted with their ids given.

    PostgreSQL: taken from the table's own sequence, so other desks' inserts
    never collide. SQLite: after the largest id, which is what SQLite itself
    would hand out; safe because a write transaction there holds the only
    write lock until it ends.
    """
    if count <= 0:
        return []
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                 "FROM generate_series(1, :count)"),
            {"table": table.name, "count": count})
        return [row[0] for row in rows]
    top = connection.execute(text(f'SELECT max(id) FROM "{table.name}"')).scalar() or 0
    return list(range(top + 1, top + 1 + count))


def driver_sql(connection: Connection, sql: str) -> str:
    """``sql`` written with ``?`` markers, in the driver's own parameter style."""
    return sql if connection.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def driver_rows(connection: Connection, sql: str, values: tuple) -> list[tuple]:
    """The rows of driver-level ``sql`` with ``values``, as the driver hands them: in one
    fetchall, not through a Row object a row (look-ups of thousands of rows); a driver's
    error raised as SQLAlchemy would have raised it (parameters hidden)."""
    result = connection.exec_driver_sql(sql, values)
    dbapi = connection.dialect.dbapi
    try:
        rows = result.cursor.fetchall()
    except dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, dbapi.Error) from exc
    finally:
        result.close()
    return rows if not rows or type(rows[0]) is tuple else [tuple(row) for row in rows]


def stored_value(connection: Connection, column: Any, value: Any) -> Any:
    """``value`` as ``column``'s type hands it to the driver (for driver-level SQL)."""
    process = _processor(column, connection.dialect)
    return process(value) if process and value is not None else value


def _processor(column: Any, dialect: Any) -> Any:
    """What the dialect's own form of the column's type does to a value on the way in.

    The dialect's form matters: SQLite's DATETIME writes its own text format,
    which the plain type (and sqlite3's default adapter) would not.
    """
    return column.type.dialect_impl(dialect).bind_processor(dialect)


_REMEMBERED = 4096


def _remembering(convert: Any) -> Any:
    answers: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        try:
            return answers[value]
        except KeyError:
            if len(answers) >= _REMEMBERED:
                answers.clear()
            answers[value] = found = convert(value)
            return found
        except TypeError:  # unhashable (a JSON column's dict): converted every time
            return convert(value)

    return remembered
