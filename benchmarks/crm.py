"""Benchmark of the adviser's workspace at national scale.

Builds 300,000 companies (valid CVR numbers), their contacts, 1,000,000 cases across the five
Væksthuse and 5,000,000 timeline entries in a scratch database, in SQL (generate_series), then
measures in-process with Django's test client, logged in as an adviser:

- the default case list (my hub's open cases, overdue first),
- a filtered list (status + theme), the overdue filter,
- the shared history list ("Alle, jeg kan se": open cases of every company with a case at the hub),
- a search by CVR,
- a case page,

each ~50 times after a warm-up, printing p50/p95 in milliseconds and the number of queries.

Usage (the database is created if missing and rebuilt only when it lacks the data):

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/portal_crm_bench \\
    REDIS_URL=redis://127.0.0.1:6379/4 DEBUG=true \\
    .venv/bin/python benchmarks/crm.py [--runs 50] [--scale 1.0] [--rebuild]

``--scale 0.1`` builds a tenth of everything for a quick try. Never point it at a real database:
it empties the CRM tables before building.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from benchmarks.common import scratch_database

FIRST_NAMES = [
    "Anne",
    "Mette",
    "Lars",
    "Søren",
    "Camilla",
    "Jens",
    "Karen",
    "Peter",
    "Louise",
    "Ole",
]
LAST_NAMES = ["Hansen", "Jensen", "Nielsen", "Pedersen", "Andersen", "Møller", "Kristensen", "Holm"]
NAME_WORDS = ["Nordisk", "Jysk", "Fynsk", "Sjællandsk", "Dansk", "Grøn", "Ny", "Vestjysk"]
TRADE_WORDS = [
    "Smedie",
    "Bageri",
    "Software",
    "Tømrer",
    "Rådgivning",
    "Transport",
    "Design",
    "Fødevarer",
    "Maskinfabrik",
    "Energi",
]


def sql_array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "]"


def build(scale: float) -> None:
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from accounts.models import User
    from accounts.roles import sync_roles
    from offers.models import Organisation

    companies = int(300_000 * scale)
    cases = int(1_000_000 * scale)
    sync_roles()
    adviser_group = Group.objects.get(name="Rådgiver")
    for hub in Organisation.objects.hubs():
        for index in range(5):
            user, _ = User.objects.get_or_create(
                username=f"bench-{hub.slug}-{index}",
                defaults={
                    "organisation": hub,
                    "is_staff": True,
                    "first_name": FIRST_NAMES[index],
                    "last_name": LAST_NAMES[index],
                },
            )
            user.groups.add(adviser_group)

    steps = [
        (
            "empty the CRM tables",
            """
            TRUNCATE crm_feedback, crm_referral, crm_timelineentry, crm_caseoffer,
                     crm_case_themes, crm_notification, crm_case, crm_contact, crm_company
            RESTART IDENTITY CASCADE
            """,
        ),
        (
            "advisers and hubs",
            """
            DROP TABLE IF EXISTS bench_adviser;
            CREATE UNLOGGED TABLE bench_adviser AS
            SELECT o.id AS hub_id, o.region_id,
                   (row_number() OVER (PARTITION BY o.id ORDER BY u.id) - 1)::int AS idx,
                   u.id AS user_id
            FROM offers_organisation o JOIN accounts_user u ON u.organisation_id = o.id
            WHERE o.kind = 'business_hub' AND u.username LIKE 'bench-%%';
            """,
        ),
        (
            f"{companies:,} companies with valid CVR numbers",
            f"""
            WITH prefixes AS (
                SELECT p, (11 - ((2 * (p / 1000000 % 10) + 7 * (p / 100000 % 10)
                    + 6 * (p / 10000 % 10) + 5 * (p / 1000 % 10) + 4 * (p / 100 % 10)
                    + 3 * (p / 10 % 10) + 2 * (p % 10)) % 11)) % 11 AS check_digit
                FROM generate_series(2000000, 2000000 + {companies} * 2) p
            ), valid AS (
                SELECT p, check_digit, row_number() OVER (ORDER BY p) AS n
                FROM prefixes WHERE check_digit < 10
            ), municipalities AS (
                SELECT array_agg(code ORDER BY code) AS codes FROM offers_municipality
            )
            INSERT INTO crm_company (cvr, p_number, name, municipality_id, industry,
                                     industry_classification, size_class, employees,
                                     address, postcode, city, created_at, updated_at)
            SELECT p::text || check_digit::text, '',
                   ({sql_array(NAME_WORDS)})[1 + n % 8] || ' '
                       || ({sql_array(TRADE_WORDS)})[1 + (n / 8) % 10] || ' ' || n || ' ApS',
                   codes[1 + n % array_length(codes, 1)],
                   chr(65 + (n % 19)::int), 'DB07',
                   (ARRAY['micro', 'small', 'medium', 'large'])[1 + n % 4],
                   (ARRAY[4, 25, 120, 400])[1 + n % 4],
                   '', '', '', now() - interval '7 years', now()
            FROM valid, municipalities WHERE n <= {companies}
            """,
        ),
        (
            "one contact per company",
            f"""
            INSERT INTO crm_contact (company_id, name, email, phone, role, consent_at,
                                     consent_version, created_at)
            SELECT id, ({sql_array(FIRST_NAMES)})[1 + id % 10] || ' '
                       || ({sql_array(LAST_NAMES)})[1 + (id / 10) % 8],
                   'kontakt' || id || '@virksomhed' || id || '.dk', '+45 70 00 00 00',
                   'Direktør', now() - interval '7 years', '2020-01', now() - interval '7 years'
            FROM crm_company ORDER BY id
            """,
        ),
        (
            f"{cases:,} cases across the five hubs",
            f"""
            INSERT INTO crm_case (reference, company_id, contact_id, hub_id, adviser_id, status,
                                  needs, source, first_response_due, first_responded_at,
                                  outcome, outcome_text, closed_at, created_at, source_page,
                                  language)
            SELECT 'EF-' || extract(year FROM created)::int || '-' || lpad(g::text, 6, '0'),
                   c.id, c.id, a.hub_id,
                   CASE WHEN status = 'new' THEN NULL ELSE a.user_id END,
                   status,
                   'Vi vil gerne vokse og har brug for sparring om eksport og finansiering.',
                   (ARRAY['web', 'web', 'phone', 'email', 'municipal_referral'])[1 + g % 5],
                   (created + interval '2 days')::date,
                   CASE WHEN status = 'new' THEN NULL ELSE created + interval '1 day' END,
                   CASE WHEN status = 'closed' THEN 'guided' ELSE '' END,
                   '',
                   CASE WHEN status = 'closed' THEN created + interval '30 days' END,
                   created,
                   '', 'da'
            FROM (
                SELECT g,
                       1 + (g::bigint * 7919) % {companies} AS company_id,
                       CASE WHEN g % 100 < 90 THEN 'closed'
                            ELSE (ARRAY['new', 'assigned', 'in_progress', 'referred'])[1 + g % 4]
                       END AS status,
                       now() - ((g % 2190) || ' days')::interval
                             - ((g % 86400) || ' seconds')::interval AS created
                FROM generate_series(1, {cases}) g
            ) s
            JOIN crm_company c ON c.id = s.company_id
            JOIN offers_municipality m ON m.code = c.municipality_id
            JOIN bench_adviser a ON a.region_id = m.region_id AND a.idx = g % 5
            """,
        ),
        (
            "themes of each case",
            """
            INSERT INTO crm_case_themes (case_id, theme_id)
            SELECT c.id, t.ids[1 + c.id % array_length(t.ids, 1)]
            FROM crm_case c, (SELECT array_agg(id ORDER BY id) AS ids FROM offers_theme) t
            UNION ALL
            SELECT c.id, t.ids[1 + (c.id + 3) % array_length(t.ids, 1)]
            FROM crm_case c, (SELECT array_agg(id ORDER BY id) AS ids FROM offers_theme) t
            WHERE c.id % 2 = 0
            """,
        ),
        (
            "five timeline entries per case",
            """
            INSERT INTO crm_timelineentry (case_id, kind, action, actor_id, at, text, payload,
                                           is_public)
            SELECT c.id,
                   (ARRAY['created', 'assignment', 'call', 'meeting', 'note'])[k + 1],
                   (ARRAY['crm.case.created', 'crm.case.assigned', 'crm.case.call',
                          'crm.case.meeting', 'crm.case.note'])[k + 1],
                   CASE WHEN k = 0 THEN NULL ELSE c.adviser_id END,
                   c.created_at + (k || ' hours')::interval,
                   (ARRAY['Henvendelsen er modtaget.', 'En rådgiver har taget din sag.',
                          'Ringede til virksomheden og aftalte et møde.',
                          'Møde om eksportplaner og finansiering.',
                          'Sendt materiale om relevante tilbud.'])[k + 1],
                   '{}'::jsonb, k < 2
            FROM crm_case c CROSS JOIN generate_series(0, 4) k
            """,
        ),
        (
            "referrals for one case in ten",
            """
            INSERT INTO crm_referral (case_id, operator_id, status, note, outcome, created_at,
                                      completed_at)
            SELECT c.id, o.ids[1 + c.id % array_length(o.ids, 1)],
                   CASE WHEN c.status = 'closed' THEN 'completed' ELSE 'proposed' END,
                   '', CASE WHEN c.status = 'closed' THEN 'Forløb gennemført' ELSE '' END,
                   c.created_at + interval '3 days',
                   CASE WHEN c.status = 'closed' THEN c.created_at + interval '20 days' END
            FROM crm_case c,
                 (SELECT array_agg(id ORDER BY id) AS ids FROM offers_organisation
                  WHERE kind IN ('state_agency', 'cluster')) o
            WHERE c.id % 10 = 0
            """,
        ),
        (
            "reference sequence",
            """
            SELECT setval('crm_case_reference_seq', (SELECT count(*) FROM crm_case) + 1);
            DROP TABLE bench_adviser;
            """,
        ),
    ]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Foreign-key triggers would queue millions of deferred checks; the SQL builds valid rows.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for label, sql in steps:
            step_started = time.perf_counter()
            with transaction.atomic():
                cursor.execute(sql)
            print(f"  {label}: {time.perf_counter() - step_started:.1f} s", flush=True)
        cursor.execute("SET session_replication_role = DEFAULT")
        # What autovacuum does soon after a bulk load in production: statistics for the planner
        # and the visibility map that lets the list counts be index-only scans.
        step_started = time.perf_counter()
        cursor.execute("VACUUM ANALYZE")
        print(f"  vacuum and statistics: {time.perf_counter() - step_started:.1f} s", flush=True)
    print(f"built in {time.perf_counter() - started:.0f} s")


def measure(runs: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from accounts.models import User
    from crm.models import Case

    setup_test_environment()
    adviser = User.objects.get(username="bench-vaeksthus-midtjylland-0")
    client = Client()
    client.force_login(adviser)
    hub_id = adviser.organisation_id
    sample = list(
        Case.objects.filter(hub_id=hub_id)
        .exclude(status="closed")
        .order_by("id")
        .values_list("id", "company__cvr")[: runs + 5]
    )
    case_ids = [case_id for case_id, _ in sample]
    cvrs = [cvr for _, cvr in sample]

    scenarios = [
        ("default case list", lambda i: "/admin/crm/case/"),
        (
            "filtered list (status + theme)",
            lambda i: "/admin/crm/case/?status=in_progress&theme=export",
        ),
        ("overdue filter", lambda i: "/admin/crm/case/?overdue=yes"),
        ("shared history (all I can see)", lambda i: "/admin/crm/case/?hub=all"),
        ("search by CVR", lambda i: f"/admin/crm/case/?q={cvrs[i % len(cvrs)]}"),
        ("search by company name", lambda i: f"/admin/crm/case/?q=Jysk Smedie {1000 + i}"),
        ("case page", lambda i: f"/admin/crm/case/{case_ids[i % len(case_ids)]}/change/"),
    ]
    print(f"\n{'scenario':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    for label, url_for in scenarios:
        for i in range(3):
            response = client.get(url_for(i))
            assert response.status_code == 200, (label, response.status_code)
        timings = []
        for i in range(runs):
            started = time.perf_counter()
            response = client.get(url_for(i))
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        counts = set()
        for i in range(3):
            with CaptureQueriesContext(connection) as queries:
                client.get(url_for(i + 7))
            counts.add(len(queries.captured_queries))
        cuts = statistics.quantiles(timings, n=100, method="inclusive")
        print(
            f"{label:34} {cuts[49]:8.1f} {cuts[94]:8.1f} {max(timings):8.1f} "
            f"{'/'.join(str(c) for c in sorted(counts)):>8}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    scratch_database(os.environ.get("DATABASE_URL", ""))

    import django

    django.setup()
    from django.core.management import call_command

    from crm.models import Case, TimelineEntry

    call_command("migrate", verbosity=0)
    wanted = int(1_000_000 * args.scale)
    if args.rebuild or Case.objects.count() != wanted:
        build(args.scale)
    print(
        f"data: {Case.objects.count():,} cases, "
        f"{TimelineEntry.objects.count():,} timeline entries, "
        f"{Case.objects.values('company').distinct().count():,} companies with cases"
    )
    measure(args.runs)


if __name__ == "__main__":
    main()
