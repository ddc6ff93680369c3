"""Hot-path statements compiled once and run straight on the driver's cursor.

SQLAlchemy Core spends about 25 µs per execution on its execution context, parameter processing and
result object, around a primary-key lookup that SQLite itself answers in 2 µs and PostgreSQL in one
25 µs round trip; a command runs ten to twenty (BENCHMARKS.md). A `Prepared` statement is
used exactly like the Core statement it wraps — `conn.execute(PREPARED, {...})` inside the same
transaction — but each (dialect, parameter names) pair is compiled once into SQL text, a parameter
order and SQLAlchemy's own type conversions, so what reaches the database is byte for byte what
SQLAlchemy would send. Statements this module cannot run as well as SQLAlchemy (several parameter
sets, IN lists expanded per call, execution options) go to SQLAlchemy unchanged.
"""

from __future__ import annotations

import threading
from operator import itemgetter

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import Insert, Select
from sqlalchemy.sql.sqltypes import Numeric

from engine.store.database import ReadOnly

_MISSING = object()


class _Computed:
    """A column default computed at each execution (e.g. a timestamp), as SQLAlchemy would."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn


class Prepared:
    """A Core statement built once at import time and executed without SQLAlchemy's per-call work."""

    __slots__ = ("statement", "_plans")

    def __init__(self, statement):
        self.statement = statement
        self._plans: dict[tuple, _Plan | None] = {}

    def __repr__(self) -> str:
        return f"Prepared({self.statement})"

    # Connection.execute() hands any statement object to this method (SQLAlchemy's executable protocol).
    def _execute_on_connection(self, connection: Connection, distilled_params, execution_options):
        if len(distilled_params) > 1 or execution_options:
            return connection.execute(self.statement, list(distilled_params), execution_options=execution_options)
        params = distilled_params[0] if distilled_params else {}
        dialect = connection.dialect
        key = (dialect.name, dialect.driver, frozenset(params))
        try:
            plan = self._plans[key]
        except KeyError:
            plan = self._plans[key] = _plan(self.statement, dialect, params)
        if plan is None:
            return connection.execute(self.statement, params)
        return plan.run(connection, params)


class _Plan:
    __slots__ = ("sql", "slots", "positional", "row", "converters", "lastrowid", "returns_pk", "writes")

    def __init__(self, sql, slots, positional, row, converters, lastrowid, returns_pk, writes):
        self.sql = sql
        self.writes = writes  # INSERT, UPDATE or DELETE
        # (parameter name, constant or _MISSING, bind processor or None, placeholder name)
        self.slots = slots
        self.positional = positional
        self.row = row  # namedtuple class of the result rows, or None for DML
        self.converters = converters  # per result column: SQLAlchemy's result processor or None
        self.lastrowid = lastrowid  # INSERT on SQLite: the new primary key is cursor.lastrowid
        self.returns_pk = returns_pk  # INSERT elsewhere: RETURNING the primary key

    def _arguments(self, params: dict):
        values = []
        for name, constant, process, _placeholder in self.slots:
            value = params.get(name, constant)
            if value is _MISSING:
                raise exc.InvalidRequestError(f"A value is required for bind parameter {name!r}")
            if type(value) is _Computed:
                value = value.fn(None)  # SQLAlchemy wraps a default's callable to take a context
            values.append(process(value) if process is not None else value)
        if self.positional:
            return values
        return {slot[3]: value for slot, value in zip(self.slots, values, strict=True)}

    def run(self, connection: Connection, params: dict) -> _Result:
        if not connection.in_transaction():
            connection.begin()  # as SQLAlchemy's autobegin would: the caller's commit() ends it
        if self.writes and connection.get_execution_options().get("oaflow_read_only"):
            raise ReadOnly(self.sql)
        args = self._arguments(params)
        raw = connection.connection.driver_connection
        cursor = raw.cursor()
        try:
            cursor.execute(self.sql, args)
            rows = ()
            pk = None
            if self.row is not None:
                fetched = cursor.fetchall()
                converters = self.converters
                make = self.row._make
                if any(converters):
                    rows = [
                        make([value if c is None else c(value) for c, value in zip(converters, raw_row, strict=True)])
                        for raw_row in fetched
                    ]
                else:
                    rows = [make(raw_row) for raw_row in fetched]
            elif self.returns_pk:
                pk = cursor.fetchone()[0]
            elif self.lastrowid:
                pk = cursor.lastrowid
            return _Result(rows, cursor.rowcount, pk)
        except connection.dialect.loaded_dbapi.Error as error:
            if connection.dialect.is_disconnect(error, raw, cursor):
                connection.invalidate(error)
            raise exc.DBAPIError.instance(
                self.sql, args, error, connection.dialect.loaded_dbapi.Error, dialect=connection.dialect
            ) from error
        finally:
            cursor.close()


class _Result:
    """The part of SQLAlchemy's Result that the engine uses, over rows already fetched."""

    __slots__ = ("_rows", "rowcount", "_pk")

    def __init__(self, rows, rowcount: int, pk):
        self._rows = rows
        self.rowcount = rowcount
        self._pk = pk

    def __iter__(self):
        return iter(self._rows)

    def first(self):
        return self._rows[0] if self._rows else None

    def scalar(self):
        return self._rows[0][0] if self._rows else None

    def all(self) -> list:
        return list(self._rows)

    fetchall = all

    def one(self):
        if len(self._rows) != 1:
            raise (exc.NoResultFound if not self._rows else exc.MultipleResultsFound)(
                "No row was found when one was required" if not self._rows else "Multiple rows were found"
            )
        return self._rows[0]

    def one_or_none(self):
        if len(self._rows) > 1:
            raise exc.MultipleResultsFound("Multiple rows were found when one or none was required")
        return self._rows[0] if self._rows else None

    def scalar_one(self):
        return self.one()[0]

    def scalar_one_or_none(self):
        row = self.one_or_none()
        return None if row is None else row[0]

    def scalars(self) -> list:
        return [row[0] for row in self._rows]

    @property
    def inserted_primary_key(self) -> tuple:
        if self._pk is None:
            raise exc.InvalidRequestError("not an INSERT with a generated primary key")
        return (self._pk,)


class _Row(tuple):
    """Result rows: index and attribute access like SQLAlchemy's Row, plus `_mapping`. Built by hand
    rather than with collections.namedtuple, which compiles its constructor with eval: the engine never
    reaches eval or exec (tests/process/test_expressions.py)."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    @classmethod
    def _make(cls, values):
        return tuple.__new__(cls, values)

    def _asdict(self) -> dict:
        return dict(zip(self._fields, self, strict=True))

    @property
    def _mapping(self) -> dict:
        return self._asdict()

    def __repr__(self) -> str:
        return "Row(" + ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self, strict=True)) + ")"


_ROW_CLASSES: dict[tuple[str, ...], type] = {}
_ROW_LOCK = threading.Lock()


def _row_class(names: tuple[str, ...]) -> type:
    with _ROW_LOCK:
        cls = _ROW_CLASSES.get(names)
        if cls is None:
            fields = {name: property(itemgetter(index)) for index, name in enumerate(names)}
            cls = _ROW_CLASSES[names] = type("Row", (_Row,), {"__slots__": (), "_fields": names, **fields})
        return cls


def _plan(statement, dialect: Dialect, params: dict) -> _Plan | None:
    """Compile for this dialect and parameter names; None when SQLAlchemy must run it per call."""
    is_insert = isinstance(statement, Insert)
    table = statement.table if is_insert else None
    returns_pk = False
    if is_insert and dialect.name != "sqlite":
        if len(table.primary_key.columns) != 1 or statement._returning:
            return None
        statement = statement.returning(*table.primary_key.columns)
        returns_pk = True
    compiled = statement.compile(dialect=dialect, column_keys=list(params))
    if compiled.literal_execute_params or compiled.post_compile_params:
        return None  # expanded per call (IN lists, literal LIMITs)

    defaults = {}
    for column in compiled.insert_prefetch + compiled.update_prefetch:
        default = column.default if column in compiled.insert_prefetch else column.onupdate
        if default is None or not (default.is_scalar or default.is_callable):
            return None
        defaults[column.key] = default

    positional = compiled.positiontup is not None
    names = list(compiled.positiontup) if positional else list(compiled.binds)
    escaped = compiled.escaped_bind_names or {}
    slots = []
    for name in names:
        bind = compiled.binds[name]
        if bind.expanding or bind.callable is not None:
            return None
        if name in defaults:
            default = defaults[name]
            constant = _Computed(default.arg) if default.is_callable else default.arg
        elif bind.value is not None or not bind.required:
            constant = bind.value
        else:
            constant = _MISSING
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        slots.append((name, constant, process, escaped.get(name, name)))

    row = converters = None
    if isinstance(statement, Select) or (statement._returning and not returns_pk):
        columns = list(statement.selected_columns) if isinstance(statement, Select) else list(statement._returning)
        keys = tuple(getattr(c, "key", None) or getattr(c, "name", None) for c in columns)
        if len(set(keys)) != len(keys) or not all(k and k.isidentifier() and not k.startswith("_") for k in keys):
            return None  # ambiguous or unnamed columns: SQLAlchemy's Row handles those
        if any(isinstance(c.type, Numeric) for c in columns):
            return None  # numeric conversion depends on the driver's column type
        row = _row_class(keys)
        converters = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
    return _Plan(
        compiled.string,
        tuple(slots),
        positional,
        row,
        converters,
        lastrowid=is_insert and not returns_pk,
        returns_pk=returns_pk,
        writes=not isinstance(statement, Select),
    )
