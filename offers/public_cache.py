"""Anonymous answers of the public catalogue, kept per process under the catalogue's version.

The home page, the search (page and API) and the offer pages (page and API) answer every anonymous
visitor alike: what they show follows from the URL, the language, the day and the catalogue. The
catalogue has a version (``offers.catalogue_version``) that PostgreSQL moves at the commit of every
change to an offer, its themes, what it cannot be combined with or a theme, so an answer rendered
after the version was read is exact for as long as the version read later is the same. A process
keeps such answers and serves them again once it knows the version: by one small query, or with no
query at all while it listens for the version's moves (``VersionListener``). A search costs what a
health check costs, and an offer withdrawn a moment ago is gone from the next answer, because the
withdrawal moved the version.

The organisations (owners' and operators' names) are part of the version as well. Upper layers add
what else a page shows (``add_version_source``): the offer page
shows the offer's published effect measurement, so ``evaluation`` adds the completed effect runs.

The same version makes the HTTP validators: every such answer carries an ``ETag`` made of the
version, the day, the language and the address, ``Cache-Control: public`` (with
``PUBLIC_CACHE_MAX_AGE``; 0, the default, is ``no-cache``: a proxy may keep the answer but must ask
again, and the portal answers an unchanged page with a 304) and ``Vary: Accept-Language, Cookie``.

Only requests without a session or a messages cookie are served from or stored in the copy: a
logged-in editor sees drafts, and a message belongs to one visitor. Their answers are marked
``Cache-Control: private``. An answer that sets a cookie is never kept nor marked public.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import wraps
from typing import Any

import psycopg
import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from django.utils.translation import get_language

from offers.catalogue_version import CHANGED_HERE_SQL, VERSION_SQL

# Headers of a kept answer that are served again; the rest (Date, Vary, ...) is set anew.
_KEPT_HEADERS = ("Content-Type", "Content-Language", "Vary", "Allow")
# Organisations name the owner and operator of every offer; renaming one does not move the
# catalogue version, so their rows are part of the version too (some hundred rows).
_ORGANISATIONS_SQL = (
    "(SELECT count(*)::text || ':' || coalesce(max(xmin::text::bigint), 0)::text"
    " FROM offers_organisation)"
)
_VERSION_SOURCES: list[str] = [VERSION_SQL, _ORGANISATIONS_SQL]
# The tables whose changes move a source; each has the trigger that tells listeners
# (``NOTIFY_CHANNEL``), so a process that listens knows the version without asking.
_NOTIFYING_TABLES: set[str] = {"offers_catalogue_version", "offers_organisation"}
#: The channel the ``public_version_notify`` triggers notify at the commit of every change to a
#: source's table (migration ``offers/0015`` and one per app that adds a source).
NOTIFY_CHANNEL = "portal_public_version"
logger = logging.getLogger(__name__)


def add_version_source(sql: str, *, table: str) -> None:
    """Add an SQL expression (as text) to the version: answers change when its value does.

    ``table`` is the table the value is read from; a migration of the caller's app gives it the
    ``public_version_notify`` trigger (``tests/offers/test_version_listener.py`` checks that every
    source's table has it).
    """
    if sql not in _VERSION_SOURCES:
        _VERSION_SOURCES.append(sql)
    _NOTIFYING_TABLES.add(table)


def notifying_tables() -> frozenset[str]:
    return frozenset(_NOTIFYING_TABLES)


def public_version() -> str | None:
    """The version the kept answers are valid for, or None when nothing may be served from them.

    None inside a transaction that has changed the catalogue itself (it sees changes that are not
    yet the version's) and when the version row is missing.
    """
    # A transaction may have changed a source itself: only the query can tell (CHANGED_HERE_SQL).
    known = None if connection.in_atomic_block else LISTENER.known()
    if known is not None and known.version is not None:
        return known.version
    sources = ", ".join(_VERSION_SOURCES)
    changed_here, *values = _first_row(f"SELECT {CHANGED_HERE_SQL}, {sources}")
    if changed_here or values[0] is None:
        return None
    version = "/".join("" if value is None else str(value) for value in values)
    if known is not None:
        LISTENER.remember(version, known)
    return version


@dataclass(frozen=True, slots=True)
class Known:
    """What the listener knew before a request asked: the version (None: ask PostgreSQL), and the
    count of notifications seen then, so that a version read after one is not kept."""

    version: str | None
    seen: int
    at: float


class VersionListener:
    """A thread of the process with its own connection that LISTENs on ``NOTIFY_CHANNEL``: while
    it listens, a kept answer costs no query at all.

    Every source's table has a trigger that notifies the channel at the commit of a change;
    PostgreSQL delivers the notification to the thread within milliseconds of the commit. So the
    version read after the LISTEN stays the version until a notification arrives, and after one
    the next request asks PostgreSQL again (a version read while a notification was on its way is
    not kept). The thread reads the socket all the time, busy or idle, so PostgreSQL never waits
    on a listener that is not read. A version is trusted for at most ``PUBLIC_VERSION_TRUST_MS``
    after it was read, whatever arrives: a commit's own next request may come before its
    notification, and notifications that never come (a pooler in transaction mode hands them to
    another client) cost at most that. Any error on the connection (TCP keepalives find a dead
    one within about a minute) ends the listening, the requests ask PostgreSQL as before, and the
    thread connects again after ``retry_seconds``. Requests never wait for the connection.
    """

    RETRY_SECONDS = 5.0
    # How long one wait for notifications lasts: how soon the thread sees close().
    WAIT_SECONDS = 1.0

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, retry_seconds: float = RETRY_SECONDS
    ) -> None:
        self._clock = clock
        self.retry_seconds = retry_seconds
        self._lock = threading.Lock()
        self._connection: Any = None
        self._thread_pid = 0
        self._stopped = threading.Event()
        self._version: str | None = None
        self._read_at = 0.0
        self._seen = 0
        self._failing = False
        self._quiet_until = 0.0

    def known(self) -> Known | None:
        """What is known now; None when the listener is off (nothing to remember either)."""
        if not settings.PUBLIC_VERSION_LISTEN or settings.PUBLIC_VERSION_TRUST_MS <= 0:
            return None
        with self._lock:
            now = self._clock()
            self._start()
            if self._connection is None:
                return None
            fresh = now - self._read_at < settings.PUBLIC_VERSION_TRUST_MS / 1000
            return Known(self._version if fresh else None, self._seen, now)

    def remember(self, version: str, known: Known) -> None:
        """Keep ``version``, read after ``known`` was taken, unless a notification came since
        (it may have been read before the change: the next request asks again)."""
        with self._lock:
            if self._connection is not None and known.seen == self._seen:
                self._version, self._read_at = version, known.at

    def forget(self) -> None:
        """Ask PostgreSQL on the next request (the connection stays)."""
        with self._lock:
            self._version = None
            self._seen += 1

    def listening(self) -> bool:
        with self._lock:
            return self._connection is not None

    def close(self) -> None:
        """Stop listening (the tests; a process's end closes the socket anyway)."""
        self._stopped.set()
        with self._lock:
            self._drop(self._connection)

    # The thread:

    def _start(self) -> None:
        """Under the lock: start this process's thread (a fork does not copy threads)."""
        if self._thread_pid == os.getpid():
            return
        self._forget_parents_connection()
        self._stopped.set()  # a thread of this object in this process (only in the tests) ends
        self._thread_pid = os.getpid()
        self._stopped = threading.Event()
        params = {
            key: value
            for key, value in connection.get_connection_params().items()
            if key not in ("cursor_factory", "context", "prepare_threshold")
        }
        threading.Thread(
            target=self._listen, args=(params, self._stopped), name="public-version", daemon=True
        ).start()

    def _listen(self, params: dict[str, Any], stopped: threading.Event) -> None:
        while not stopped.is_set():
            listening = self._connect(params, stopped)
            if listening is not None:
                try:
                    while not stopped.is_set():
                        # Each notification as it arrives: the wait goes on until its time is up.
                        for _notify in listening.notifies(timeout=self.WAIT_SECONDS):
                            with self._lock:
                                self._seen += 1
                                self._version = None
                except Exception as error:  # the thread must outlive any error
                    if not stopped.is_set() and self._clock() >= self._quiet_until:
                        # At most every five minutes: a server's idle_session_timeout would end
                        # the connection again and again.
                        self._quiet_until = self._clock() + 300
                        logger.warning("public version: listener lost (%s)", type(error).__name__)
                with self._lock:
                    self._drop(listening)
            # Short sleeps, not stopped.wait(): libfaketime (the suite's moved clock) turns a
            # condition variable's timeout into a wait of the clock's offset.
            waited = 0.0
            while waited < self.retry_seconds and not stopped.is_set():
                time.sleep(0.05)
                waited += 0.05

    def _connect(self, params: dict[str, Any], stopped: threading.Event) -> Any:
        listening = None
        try:
            listening = psycopg.connect(
                **{
                    # A connection that died without a word (a failover, a dropped NAT entry) is
                    # found within about a minute instead of libpq's two hours; DATABASE_URL's
                    # own settings win.
                    "keepalives": 1,
                    "keepalives_idle": 30,
                    "keepalives_interval": 10,
                    "keepalives_count": 3,
                    **params,
                    "autocommit": True,
                }
            )
            listening.execute(f"LISTEN {NOTIFY_CHANNEL}")
        except Exception as error:  # the thread must outlive any error
            # Once per outage, not every few seconds.
            if not self._failing:
                logger.warning("public version: not listening (%s)", type(error).__name__)
            self._failing = True
            if listening is not None:
                with suppress(Exception):
                    listening.close()
            return None
        with self._lock:
            if stopped.is_set():
                self._drop(listening)
                return None
            self._connection, self._failing = listening, False
            # Nothing read before the LISTEN may be kept: the next request asks.
            self._version = None
            self._seen += 1
        return listening

    def _drop(self, listening: Any) -> None:
        """Under the lock: stop using ``listening`` (if it is still the one in use)."""
        if listening is None or any(listening is parents for parents in _INHERITED):
            return
        if listening is self._connection:
            self._connection, self._version = None, None
            self._seen += 1
        with suppress(Exception):
            listening.close()

    def after_fork_in_child(self) -> None:
        """A fork copies the lock as it was (perhaps held by the thread, which is not copied) and
        the parent's connection: a new lock, and the connection forgotten."""
        self._lock = threading.Lock()
        self._forget_parents_connection()
        self._thread_pid = 0

    def _forget_parents_connection(self) -> None:
        """Under the lock: a connection copied by a fork is the parent's socket. Closing it would
        end the parent's session, so it is only forgotten (and kept from the garbage collector)."""
        if self._connection is not None:
            _INHERITED.append(self._connection)
        self._connection, self._version = None, None
        self._seen += 1


_INHERITED: list[Any] = []
LISTENER = VersionListener()
os.register_at_fork(after_in_child=LISTENER.after_fork_in_child)


def _first_row(sql: str) -> tuple[Any, ...]:
    """The row of ``sql``, which also serves as the connection's health check in this request.

    With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before a request's first statement on a
    kept connection. For a kept answer the version is the only statement, so the check would double
    its round trips: instead the version query is the check, and on a connection the server has
    dropped (a restart, a failover) it is sent once more on a new connection, as Django would.
    """
    wrapper: Any = connection  # the health-check attributes are not in django-stubs
    checking = (
        wrapper.connection is not None
        and wrapper.health_check_enabled
        and not wrapper.health_check_done
        and not wrapper.in_atomic_block
    )
    if checking:
        wrapper.health_check_done = True

    def row() -> tuple[Any, ...]:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return tuple(cursor.fetchone())

    try:
        return row()
    except (OperationalError, InterfaceError):
        if not checking:
            raise
        connection.close()
        return row()


@dataclass(frozen=True, slots=True)
class Kept:
    status: int
    content: bytes
    headers: tuple[tuple[str, str], ...]
    # What the view told the usage statistics (governance.middleware), told again on a hit.
    search_result_count: int | None


class AnswerStore:
    """The kept answers of one version, least recently used dropped first beyond ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._version: str | None = None
        self._answers: OrderedDict[str, Kept] = OrderedDict()
        self._bytes = 0

    def get(self, version: str, key: str) -> Kept | None:
        with self._lock:
            if version != self._version:
                return None
            kept = self._answers.get(key)
            if kept is not None:
                self._answers.move_to_end(key)
            return kept

    def put(self, version: str, key: str, kept: Kept) -> None:
        size = len(kept.content) + len(key)
        if size > self.max_bytes:
            return
        with self._lock:
            if version != self._version:
                # A new version: everything kept under the old one is dropped at once.
                self._version, self._answers, self._bytes = version, OrderedDict(), 0
            previous = self._answers.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous.content) + len(key)
            self._answers[key] = kept
            self._bytes += size
            while self._bytes > self.max_bytes:
                old_key, old = self._answers.popitem(last=False)
                self._bytes -= len(old.content) + len(old_key)

    def clear(self) -> None:
        with self._lock:
            self._version, self._answers, self._bytes = None, OrderedDict(), 0


STORE = AnswerStore(max_bytes=settings.PUBLIC_CACHE_BYTES)


class SharedAnswers:
    """Kept answers shared by every web process, in Redis (``PUBLIC_CACHE_REDIS_URL``; off when
    empty): a search one process has answered is not computed again by the others.

    The key holds the version, so nothing kept under an older version is ever read; entries expire
    after ``PUBLIC_CACHE_SHARED_SECONDS``. Redis is a help, never a need: a slow or missing Redis
    (100 ms timeouts) is left alone for ten seconds and the process answers by itself.
    """

    PAUSE_AFTER_ERROR = 10.0

    def __init__(self) -> None:
        self._client: Any = None
        self._resting_until = 0.0

    def _redis(self) -> Any:
        url = settings.PUBLIC_CACHE_REDIS_URL
        if not url or time.monotonic() < self._resting_until:
            return None
        if self._client is None:
            self._client = redis.Redis.from_url(url, socket_timeout=0.1, socket_connect_timeout=0.1)
        return self._client

    def _rest(self, error: Exception) -> None:
        logger.warning("Shared public answers unavailable: %s", type(error).__name__)
        self._resting_until = time.monotonic() + self.PAUSE_AFTER_ERROR

    @staticmethod
    def _key(version: str, key: str) -> str:
        return "portal:public:" + hashlib.sha256(f"{version}\n{key}".encode()).hexdigest()

    def get(self, version: str, key: str) -> Kept | None:
        client = self._redis()
        if client is None:
            return None
        try:
            stored = client.get(self._key(version, key))
        except redis.RedisError as error:  # any Redis trouble: answer without it
            self._rest(error)
            return None
        if not stored:
            return None
        meta, _newline, content = bytes(stored).partition(b"\n")
        status, headers, count = json.loads(meta)
        return Kept(status, content, tuple((n, v) for n, v in headers), count)

    def put(self, version: str, key: str, kept: Kept) -> None:
        client = self._redis()
        if client is None:
            return
        meta = json.dumps([kept.status, kept.headers, kept.search_result_count]).encode()
        try:
            client.set(
                self._key(version, key),
                meta + b"\n" + kept.content,
                ex=settings.PUBLIC_CACHE_SHARED_SECONDS,
            )
        except redis.RedisError as error:  # any Redis trouble: answer without it
            self._rest(error)


SHARED = SharedAnswers()


def is_anonymous_request(request: HttpRequest) -> bool:
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies


def _etag(version: str, key: str) -> str:
    return '"' + hashlib.sha256(f"{version}\n{key}".encode()).hexdigest()[:32] + '"'


def _mark_public(response: HttpResponseBase, etag: str) -> None:
    response["ETag"] = etag
    max_age = settings.PUBLIC_CACHE_MAX_AGE
    if max_age > 0:
        patch_cache_control(response, public=True, max_age=max_age)
    else:
        patch_cache_control(response, public=True, no_cache=True)
    patch_vary_headers(response, ("Accept-Language", "Cookie"))


def _mark_private(response: HttpResponseBase) -> None:
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ("Cookie",))


def _not_modified(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    # Only the tag itself: it is handed out with 200 answers alone, while "*" would make a
    # missing offer look unchanged.
    tags = parse_etags(header)
    return etag in tags or f"W/{etag}" in tags


def serve_public(request: HttpRequest, answer: Callable[[], HttpResponseBase]) -> HttpResponseBase:
    """``answer()``, or the same answer kept from an earlier request under the same version."""
    if request.method not in ("GET", "HEAD"):
        return answer()
    if not is_anonymous_request(request):
        response = answer()
        _mark_private(response)
        return response
    version = public_version() if settings.PUBLIC_CACHE_ENABLED else None
    if version is None:
        response = answer()
        _mark_private(response)
        return response
    parts = [request.build_absolute_uri(), get_language() or "", timezone.localdate().isoformat()]
    if request.path.startswith("/api/"):
        # The API answers JSON or, for a browser, its HTML page (Vary: Accept).
        parts.append(request.headers.get("Accept", ""))
    key = "\n".join(parts)
    etag = _etag(version, key)
    if _not_modified(request, etag):
        not_modified = HttpResponseNotModified()
        _mark_public(not_modified, etag)
        return not_modified
    kept = STORE.get(version, key)
    if kept is None:
        kept = SHARED.get(version, key)
        if kept is not None:
            STORE.put(version, key, kept)
    if kept is not None:
        response = HttpResponse(kept.content, status=kept.status)
        for name, value in kept.headers:
            response[name] = value
        if kept.search_result_count is not None:
            request.search_result_count = kept.search_result_count  # type: ignore[attr-defined]
        _mark_public(response, etag)
        return response
    response = answer()
    render = getattr(response, "render", None)
    if callable(render):
        render()
    if response.cookies or response.streaming or response.status_code != 200:
        _mark_private(response)
        return response
    assert isinstance(response, HttpResponse)
    count = getattr(request, "search_result_count", None)
    kept = Kept(
        status=response.status_code,
        content=response.content,
        headers=tuple((n, response[n]) for n in _KEPT_HEADERS if response.has_header(n)),
        search_result_count=count if isinstance(count, int) else None,
    )
    STORE.put(version, key, kept)
    SHARED.put(version, key, kept)
    _mark_public(response, etag)
    return response


def public_cached(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A view decorator: the view's anonymous answers are kept and validated (``serve_public``)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return serve_public(request, lambda: view(request, *args, **kwargs))

    return wrapped
