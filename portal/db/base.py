"""``ENGINE = "portal.db"``: Django's PostgreSQL backend choosing the cursor class per request."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.backends.postgresql import base
from django.db.backends.postgresql.operations import DatabaseOperations as BaseOperations
from psycopg import errors

from portal.db import public_request


class DatabaseOperations(BaseOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str:
        # A public request's statement as it would run with the values in it (DEBUG's query
        # log, the tests' captured queries), as Django gives it when every cursor binds
        # server-side, not psycopg's text with $1 placeholders.
        if isinstance(cursor, base.ServerBindingCursor):
            if params is None:
                return sql
            try:
                return str(self.compose_sql(sql, params))
            except errors.DataError:
                # Django's own fallback: the statement and its parameters side by side.
                return str(BaseDatabaseOperations.last_executed_query(self, cursor, sql, params))
        return str(super().last_executed_query(cursor, sql, params))


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def create_cursor(self, name: str | None = None) -> Any:
        if (
            name is None
            and getattr(settings, "DB_PUBLIC_SERVER_SIDE_BINDING", False)
            and public_request.get()
            and not self.features.uses_server_side_binding
        ):
            # The connection is this thread's alone: the factory is swapped for this cursor only.
            factory = self.connection.cursor_factory
            self.connection.cursor_factory = base.ServerBindingCursor
            try:
                return super().create_cursor(name)
            finally:
                self.connection.cursor_factory = factory
        return super().create_cursor(name)
