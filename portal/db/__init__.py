"""The portal's PostgreSQL backend: Django's, with server-side binding for the public site only.

``DB_SERVER_SIDE_BINDING=public`` (settings) makes the statements of public requests (every path
outside the admin and the analysts' pages) go through a server-binding cursor, so psycopg
prepares the ones a connection sends again and again (``DB_PREPARE_THRESHOLD``), while the admin,
the analysts' pages, the workers and the management commands bind client-side as before. The
public reads and guidance requests then cost less, and the advisers' lists keep their own plans
(README, Beyond one machine).

``portal.middleware.PublicBindingMiddleware`` marks a public request; the cursor class is chosen
each time Django opens a cursor, so a connection kept between requests serves both kinds.
"""

from __future__ import annotations

from contextvars import ContextVar

#: Set for the duration of a public request (``portal.middleware.PublicBindingMiddleware``).
public_request: ContextVar[bool] = ContextVar("public_request", default=False)
