"""Guidance requests at national scale: matching, whole submissions, and 50 at once over HTTP.

Builds 10,000 published offers in a scratch database (varied themes, phases, sizes, industries,
national, regional and municipal geography; search vectors refreshed as the catalogue does),
then measures and prints:

1. matching in-process: candidates (``routing.candidates``: PostgreSQL and the process's copy of
   the catalogue's matching columns) plus scoring in Python (``routing.services.offers_match``)
   for 200 varied requests, p50/p95, with the SQL share; and, separately, the first request after
   the catalogue changed, when the copy is read again (``routing.catalogue``);
2. a whole submission in-process: validate (the form the page and the API use), match, choose
   the hub, create company, contact and case with its timeline and outbox row, commit
   (``guidance_request_submit``), p50/p95 over 200 requests;
3. 50 concurrent submissions over HTTP: starts gunicorn on a free 127.0.0.1 port against the same
   database, fires 50 POST /api/guidance-requests/ at once from 50 threads (every tenth pair shares
   a new CVR, so the company race is exercised too), and checks that exactly 50 cases with 50
   distinct references were created. The server is stopped when the script ends, whatever
   happens; every request has a timeout.

Goals (issue 5): matching p95 <= 20 ms and a whole submission p95 <= 100 ms at 10,000 offers;
50 concurrent submissions give exactly 50 cases with 50 distinct references.

Usage (a database you create for this alone; the script migrates it, builds the offers once and
reuses them later, and empties its CRM and routing tables at the start of every run):

    createdb -h 127.0.0.1 -U postgres portal_routing_bench
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/portal_routing_bench \\
    REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python benchmarks/routing.py [--rebuild]

Runs with production-like settings (DEBUG off). Notifications are enqueued to the Redis given
(no worker needs to run; the queued messages are purged at the end). Rate limits are switched off
for the server it starts, which is what a load test from one address needs. It refuses to touch a
database holding offers it did not make.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from benchmarks.common import (  # noqa: E402
    AUDIENCES,
    percentile,
    production_like_environment,
    setup_django,
)

production_like_environment(RATELIMIT_ENABLE="false", LOG_LEVEL="WARNING")

OFFERS = 10_000
REQUESTS = 200
CONCURRENT = 50
PREFIX = "bench-routing-"
SEED = 20261127
HTTP_TIMEOUT = 60
SERVER_START_TIMEOUT = 60

TOPICS = [
    ("export", ["eksportrådgivning", "eksportmarked", "markedsafklaring", "eksportstart"]),
    ("investment", ["investeringsfremme", "udenlandske investorer", "etablering i Danmark"]),
    ("capital", ["lånegaranti", "vækstkapital", "kautionsordning", "medinvestering"]),
    ("research", ["innovationsprojekt", "forskningssamarbejde", "erhvervsforsker"]),
    ("digitalisation", ["digitaliseringsforløb", "automatisering", "e-handel", "it-sikkerhed"]),
    ("growth", ["vækstforløb", "forretningsudvikling", "strategiarbejde", "skalering"]),
    ("clusters", ["klyngesamarbejde", "netværksmøder", "samarbejdsprojekter"]),
    ("knowledge", ["videnpilot", "studenterprojekt", "universitetssamarbejde"]),
    ("authority", ["byggetilladelse", "miljøgodkendelse", "lokalplan"]),
    ("business-service", ["virksomhedsbesøg", "erhvervskontakt", "sparring"]),
    ("startup", ["iværksættervejledning", "opstartsforløb", "forretningsplan"]),
]
SENTENCES = [
    "Forløbet tager udgangspunkt i jeres forretningsmodel og konkrete udfordringer.",
    "En erfaren konsulent hjælper jer med at lægge en realistisk handlingsplan.",
    "I får adgang til netværk af virksomheder, der står med de samme spørgsmål.",
    "Tilbuddet er medfinansieret af staten og regionerne.",
    "Vi samarbejder med universiteter og godkendte teknologiske serviceinstitutter.",
    "Målet er flere arbejdspladser og højere produktivitet i virksomheden.",
    "Der er løbende optag, og ansøgningen er kort og enkel.",
    "Forløbet kan kombineres med tilskud til ekstern rådgivning.",
]
NEEDS = [
    "Vi vil gerne begynde at eksportere vores produkter til Tyskland og Sverige.",
    "Vi søger kapital til at ansætte flere og vokse hurtigere.",
    "Vi vil automatisere produktionen og have hjælp til digitalisering.",
    "Jeg vil starte en virksomhed og har brug for hjælp til forretningsplanen.",
    "Vi vil samarbejde med et universitet om at udvikle et nyt produkt.",
    "Vi skal bruge en byggetilladelse og hjælp til lokalplanen for en ny hal.",
    "Vi vil gerne i et netværk med andre virksomheder i vores branche.",
    "Vi overvejer at flytte produktion til Danmark og vil høre om investeringsfremme.",
    "Vi har brug for sparring om strategi, salg og e-handel.",
    "Hvordan får vi styr på it-sikkerhed og persondata i en lille virksomhed?",
]


def summary(label: str, values: list[float]) -> str:
    return (
        f"{label:34}{percentile(values, 0.5):9.1f}{percentile(values, 0.95):9.1f}{max(values):9.1f}"
    )


# --- Data ---------------------------------------------------------------------------------------


def build(rebuild: bool) -> None:
    from django.core.management import call_command
    from django.db import connection

    from offers.models import Municipality, Offer, Organisation, Theme
    from offers.search import refresh_search_vectors

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    foreign = Offer.objects.exclude(external_id__startswith=PREFIX).count()
    if foreign:
        sys.exit(f"The database holds {foreign} offers this script did not make; use a scratch db.")
    if Offer.objects.count() == OFFERS and not rebuild:
        print(f"Reusing {OFFERS:,} benchmark offers.")
        return
    empty_cases()
    Offer.objects.all().delete()

    rng = random.Random(SEED)
    organisations = list(Organisation.objects.exclude(kind="business_region"))
    by_level: dict[str, list[Organisation]] = {}
    for organisation in organisations:
        by_level.setdefault(organisation.level, []).append(organisation)
    municipal = [o for o in organisations if o.kind == "municipality" and o.municipality_id]
    regions = list(Municipality.objects.values_list("region_id", flat=True).distinct())
    themes = {theme.slug: theme for theme in Theme.objects.all()}
    started = time.perf_counter()
    offers: list[Offer] = []
    links: list[tuple[int, set[str]]] = []
    for number in range(OFFERS):
        theme_slug, phrases = rng.choice(TOPICS)
        level = rng.choice(["state", "region", "municipality"])
        geography: dict[str, Any] = {"nationwide": True, "regions": [], "municipalities": []}
        if level == "municipality":
            owner = rng.choice(municipal)
            geography = {
                "nationwide": False,
                "regions": [],
                "municipalities": [owner.municipality_id],
            }
        else:
            owner = rng.choice(by_level[level])
            if level == "region" and rng.random() < 0.4:
                geography = {
                    "nationwide": False,
                    "regions": [owner.region_id or rng.choice(regions)],
                    "municipalities": [],
                }
        phrase = rng.choice(phrases)
        offers.append(
            Offer(
                external_id=f"{PREFIX}{number:05d}",
                title=f"{phrase.capitalize()} for {rng.choice(AUDIENCES)}"[:200],
                summary=rng.choice(SENTENCES),
                description=" ".join(rng.sample(SENTENCES, 4)) + f" Særligt om {phrase}.",
                level=level,
                owner=owner,
                operator=owner,
                phases=rng.sample(["idea", "startup", "growth", "established"], rng.randint(2, 4)),
                company_sizes=rng.sample(["micro", "small", "medium", "large"], rng.randint(2, 4)),
                industries=[] if rng.random() < 0.75 else rng.sample(list("ACFGJMN"), 2),
                price=rng.choice(["free", "subsidised", "paid"]),
                status="published",
                **geography,
            )
        )
        extra = {rng.choice(list(themes))} if rng.random() < 0.3 else set()
        links.append((number, {theme_slug, *extra}))
    Offer.objects.bulk_create(offers, batch_size=1000)
    through = Offer.themes.through
    through.objects.bulk_create(
        [
            through(offer_id=offers[number].pk, theme_id=themes[slug].pk)
            for number, slugs in links
            for slug in slugs
        ],
        batch_size=5000,
    )
    count = refresh_search_vectors()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE offers_offer")
        cursor.execute("ANALYZE offers_offer_themes")
    print(f"Built and indexed {count:,} offers in {time.perf_counter() - started:.1f} s.")


def empty_cases() -> None:
    """Remove the cases earlier runs made (this database belongs to the benchmark)."""
    from crm.models import Case, CaseOffer, Company, Contact, Notification, TimelineEntry
    from routing.models import GuidanceRequest

    GuidanceRequest.objects.all().delete()
    Notification.objects.all().delete()
    TimelineEntry.objects.all().delete()
    CaseOffer.objects.all().delete()
    Case.objects.all().delete()
    Contact.objects.all().delete()
    Company.objects.all().delete()


def request_bodies(count: int, seed: int) -> list[dict[str, Any]]:
    """Varied requests as the API receives them; each has a new CVR (or none)."""
    from core.cvr import valid_cvrs
    from offers.models import Municipality

    rng = random.Random(seed)
    cvrs = valid_cvrs(start=5_000_000 + seed % 1000 * 2000)
    codes = list(Municipality.objects.values_list("code", flat=True))
    bodies = []
    for number in range(count):
        topics = rng.sample(TOPICS, rng.randint(1, 3))
        bodies.append(
            {
                "cvr": next(cvrs) if rng.random() < 0.85 else "",
                "company_name": f"Benchmark Virksomhed {seed}-{number} ApS",
                "municipality": rng.choice(codes),
                "needs": rng.choice(NEEDS)
                + " "
                + " ".join(rng.choice(phrases) for _slug, phrases in topics),
                "themes": [slug for slug, _phrases in topics],
                "phase": rng.choice(["idea", "startup", "growth", "established", ""]),
                "employees": rng.choice([None, 0, 3, 12, 45, 120, 400]),
                "industry": rng.choice(["", "A", "C", "F", "G", "J", "M"]),
                "contact_name": f"Kontakt {number}",
                "contact_email": f"bench{seed}-{number}@example.dk",
                "contact_phone": "+45 70 10 20 30",
                "consent": True,
            }
        )
    return bodies


# --- In-process ---------------------------------------------------------------------------------


def validated(body: dict[str, Any]) -> Any:
    from routing.forms import GuidanceRequestForm

    form = GuidanceRequestForm(data=body)
    if not form.is_valid():
        raise SystemExit(f"benchmark request did not validate: {form.errors.as_json()}")
    return form.submission()


def run_in_process() -> dict[str, float]:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from routing import catalogue
    from routing.services import guidance_request_submit, offers_match

    today = timezone.localdate()
    bodies = request_bodies(REQUESTS, SEED)
    submissions = [validated(body) for body in bodies]
    # Warm-up, one full pass: a live catalogue of 26 MB sits in PostgreSQL's buffers, and a
    # running server holds its copy of the catalogue's matching columns with the stems companies
    # write (routing.catalogue); the first touch after a rebuild is measured on its own below.
    for submission in submissions:
        offers_match(submission=submission, day=today)

    match_ms: list[float] = []
    match_counts: list[int] = []
    for submission in submissions:
        started = time.perf_counter()
        matches = offers_match(submission=submission, day=today)
        match_ms.append((time.perf_counter() - started) * 1000)
        match_counts.append(len(matches))

    sql_ms: list[float] = []
    for submission in submissions[:50]:
        with CaptureQueriesContext(connection) as captured:
            offers_match(submission=submission, day=today)
        # The same statements again on a bare cursor (transaction control left to atomic()).
        statements = [
            q["sql"]
            for q in captured.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT"))
        ]
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
                if cursor.description is not None:
                    cursor.fetchall()
        sql_ms.append((time.perf_counter() - started) * 1000)

    submit_ms: list[float] = []
    queries: list[int] = []
    for body in request_bodies(REQUESTS, SEED + 1):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            guidance_request_submit(submission=validated(body), channel="api")
        submit_ms.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured.captured_queries))

    # The first request after a catalogue change reads the copy and the stems' offers again.
    cold_ms: list[float] = []
    for submission in submissions[:20]:
        catalogue.forget()
        started = time.perf_counter()
        offers_match(submission=submission, day=today)
        cold_ms.append((time.perf_counter() - started) * 1000)

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {load} (figures scale with it)")
    print(f"In-process, {OFFERS:,} published offers, {REQUESTS} varied requests each:")
    print(f"{'':34}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    print(summary("matching (SQL candidates + score)", match_ms))
    print(summary("  of which candidate SQL (re-run)", sql_ms))
    print(summary("first after a catalogue change", cold_ms))
    print(summary("whole submission (incl. commit)", submit_ms))
    print(
        f"matches per request: median {statistics.median(match_counts):.0f}, "
        f"none for {sum(1 for c in match_counts if c == 0)}; "
        f"queries per submission: max {max(queries)}"
    )
    return {"match_p95": percentile(match_ms, 0.95), "submit_p95": percentile(submit_ms, 0.95)}


# --- Over HTTP ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def gunicorn(port: int) -> Iterator[str]:
    """A gunicorn serving the portal on 127.0.0.1:``port``; always stopped on exit."""
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "RATELIMIT_ENABLE": "false"}
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "portal.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "4",
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=BASE_DIR, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn exited with {server.returncode}")
            # A JSON 404 for an unknown token: the app answers without templates or static files
            # (with DEBUG off those need collectstatic, which a benchmark should not depend on).
            try:
                urllib.request.urlopen(f"{base}/api/guidance-requests/not-a-token/", timeout=5)
            except urllib.error.HTTPError as error:
                if error.code == 404:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not answer within a minute")
            time.sleep(0.3)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], float]:
    data = json.dumps(body).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            status, payload = response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        status, payload = error.code, {"error": error.read().decode("utf-8", "replace")[:300]}
    return status, payload, (time.perf_counter() - started) * 1000


def run_concurrent() -> bool:
    from core.cvr import valid_cvrs
    from crm.models import Case

    bodies = request_bodies(CONCURRENT, SEED + 2)
    # Pairs share a brand-new CVR: two requests creating the same company at the same moment.
    shared = valid_cvrs(start=6_900_000)
    for number in range(0, CONCURRENT, 10):
        bodies[number]["cvr"] = bodies[number + 1]["cvr"] = next(shared)
    before = set(Case.objects.values_list("pk", flat=True))
    results: list[tuple[int, dict[str, Any], float]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CONCURRENT)

    with gunicorn(free_port()) as base:

        def send(body: dict[str, Any]) -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=30)
            outcome = post(f"{base}/api/guidance-requests/", body)
            with lock:
                results.append(outcome)

        started = time.perf_counter()
        threads = [threading.Thread(target=send, args=(body,), daemon=True) for body in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=HTTP_TIMEOUT + 30)
        wall = time.perf_counter() - started

    created = Case.objects.exclude(pk__in=before)
    references = list(created.values_list("reference", flat=True))
    statuses: dict[int, int] = {}
    for status, _payload, _ms in results:
        statuses[status] = statuses.get(status, 0) + 1
    answered = {payload.get("reference") for status, payload, _ms in results if status == 201}
    latencies = [ms for _status, _payload, ms in results]
    print(f"\n{CONCURRENT} concurrent POST /api/guidance-requests/ to gunicorn (4 workers):")
    print(f"{'':34}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    if latencies:
        print(summary("latency per request", latencies))
    print(f"wall time {wall:.2f} s; statuses {dict(sorted(statuses.items()))}")
    for status, payload, _ms in results:
        if status != 201:
            print(f"  {status}: {payload}")
    ok = (
        len(results) == CONCURRENT
        and statuses.get(201) == CONCURRENT
        and len(references) == CONCURRENT
        and len(set(references)) == CONCURRENT
        and answered == set(references)
    )
    print(
        f"cases created: {len(references)}, distinct references: {len(set(references))}, "
        f"answered references match the database: {answered == set(references)}"
    )
    return ok


def purge_queued_notifications() -> None:
    from portal.celery import app

    with contextlib.suppress(Exception):
        app.control.purge()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the offers")
    arguments = parser.parse_args()
    setup_django()
    build(arguments.rebuild)
    empty_cases()
    try:
        figures = run_in_process()
        concurrent_ok = run_concurrent()
    finally:
        purge_queued_notifications()
    goals = [
        ("matching p95 <= 20 ms", figures["match_p95"] <= 20),
        ("submission p95 <= 100 ms", figures["submit_p95"] <= 100),
        (f"{CONCURRENT} concurrent -> {CONCURRENT} cases, distinct references", concurrent_ok),
    ]
    print("\ngoals: " + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in goals))


if __name__ == "__main__":
    main()
