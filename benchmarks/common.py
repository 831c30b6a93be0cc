"""What every benchmark needs: a scratch database, Django, and percentiles.

The benchmarks run as scripts (``python benchmarks/x.py``); each puts the repository on
``sys.path`` before importing this module.
"""

from __future__ import annotations

import os
import secrets
import sys
from urllib.parse import urlparse

# Kinds of companies, as offer texts and needs name them.
AUDIENCES = [
    "små virksomheder",
    "iværksættere",
    "produktionsvirksomheder",
    "fødevareproducenter",
    "turismevirksomheder",
    "håndværkere",
    "softwarevirksomheder",
    "detailhandlen",
]


def production_like_environment(**extra: str) -> None:
    """Settings as in production (DEBUG off, a random secret), unless the caller's environment
    says otherwise; ``extra`` adds more defaults, e.g. ``RATELIMIT_ENABLE="false"``."""
    defaults = {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        **extra,
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)


def scratch_database(url: str) -> str:
    """Create the database of ``url`` if missing; refuse one whose name does not say it is scratch.

    The benchmarks empty tables and load national-scale data, so they run only against a database
    named ``…bench…`` or ``…scratch…``. Returns the database name.
    """
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if "bench" not in name and "scratch" not in name:
        sys.exit(f"Refusing to run against {name!r}: use a scratch database (…_bench).")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    return name


def setup_django() -> None:
    import django

    django.setup()


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.95 for p95) of a non-empty list."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]
