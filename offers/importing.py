"""Importing the offer catalogue: ``import_offers`` checks a whole file, then writes it at once.

The format and its row checks are ``offers.catalogue_format``. Import rules:

- Upsert by ``external_id``. A field left out of a row keeps the stored value of an existing offer
  (and takes the model default for a new one), so a source system that knows nothing of, say,
  ``how_to_apply`` does not wipe what editors wrote here. The required fields must always be
  there. A new offer without ``operator`` is run by its owner; without ``phases`` or
  ``company_sizes`` it is for all; without ``price`` its price is ``not_stated``
  (``catalogue_format.NEW_OFFER_DEFAULTS``).
- All or nothing: every row is checked before anything is written, every problem is reported
  with its line (for a JSON array: the line where the object starts) and field, and the writes
  run in one transaction.
- ``cannot_combine_with`` is resolved after all rows, so it may name offers later in the file.
  The relation is symmetrical: a pair named on either side is stored, and a row that carries the
  field replaces that offer's pairs.
- An editor's import (``user`` not a superuser) follows the scope rules of ``offers.services``:
  every row's offer is owned or operated by the editor's organisation before and after; the owner
  is the editor's own organisation or the offer's current owner; and a pair of
  ``cannot_combine_with`` that the file adds or removes joins two offers the editor may edit.
- The status is taken from the file as given (the file is the owning organisation's own
  register); a change of status is stamped with who and when like in the admin.
- Rows that change nothing are not written at all, so importing the same file twice is cheap and
  leaves no history noise.

Bulk operations throughout: a fixed number of queries whatever the size of the file.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.catalogue_format import (
    MODEL_FIELDS,
    NEW_OFFER_DEFAULTS,
    REQUIRED_FIELDS,
    Reference,
    Row,
    RowError,
    parse_offers,
    report_lines,
    validate_row,
)
from offers.models import Offer
from offers.search.index import refresh_search_vectors
from offers.services import (
    CONSTRAINT_FIELDS,
    combine_scope_message,
    offer_rule_violations,
    owner_change_error,
)

if TYPE_CHECKING:
    from accounts.models import User

_STAMP_FIELDS = ("published_at", "published_by_id", "archived_at", "archived_by_id")
_UPSERT_FIELDS = [name.removesuffix("_id") for name in (*MODEL_FIELDS, *_STAMP_FIELDS)] + [
    "updated_at"
]
# New rows after which the import refreshes the planner statistics of the offer tables.
_ANALYZE_AFTER = 1000


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)

    def report(self) -> list[str]:
        """The errors for a person: repeated kinds grouped (``catalogue_format.report_lines``)."""
        return report_lines(self.errors)


class ImportFailed(Exception):
    """Raised inside the import transaction to roll it back; carries the row errors."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


@dataclass
class _Existing:
    values: dict[str, Any]  # every field the history tracks, by attname
    theme_ids: list[int]
    combine: list[str]


def import_offers(
    *, source: str, user: User | Any | None = None, dry_run: bool = False
) -> ImportResult:
    """Check and (unless ``dry_run``) write the offers in ``source`` in one transaction.

    With a ``user`` who is not a superuser, every row must be owned or operated by the user's
    organisation, and so must the stored offer it would change. ``user=None`` is the command
    line: the whole catalogue.
    """
    result = ImportResult(dry_run=dry_run)
    parsed, syntax_errors = parse_offers(source)
    reference = Reference.load()
    errors = list(syntax_errors)
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for line, data in parsed:
        row, row_errors = validate_row(line, data, reference)
        errors.extend(row_errors)
        if row is None:
            continue
        if row.external_id in seen:
            errors.append(
                RowError(
                    line,
                    "external_id",
                    _("'%(id)s' står også i linje %(other)d")
                    % {"id": row.external_id, "other": seen[row.external_id]},
                )
            )
            continue
        seen[row.external_id] = line
        rows.append(row)
    try:
        with transaction.atomic():
            _import_rows(rows, errors, reference=reference, user=user, result=result)
            if errors:
                raise ImportFailed(errors)
            if dry_run:
                # The writes ran, so the database checked them too; now undo them.
                transaction.set_rollback(True)
    except ImportFailed as failure:
        result.errors = sorted(set(failure.errors))
        result.created, result.updated, result.unchanged = [], [], []
    except IntegrityError as error:
        result.errors = [_integrity_error(error)]
        result.created, result.updated, result.unchanged = [], [], []
    return result


def _integrity_error(error: IntegrityError) -> RowError:
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) or ""
    return RowError(
        0,
        CONSTRAINT_FIELDS.get(constraint, ""),
        _("databasen afviste importen (%(constraint)s); intet er gemt")
        % {"constraint": constraint or error.__class__.__name__},
    )


def _load_existing(external_ids: Sequence[str]) -> dict[str, _Existing]:
    # The tracked fields are exactly the stored facts; derived search columns are left to
    # refresh_search_vectors.
    attnames = [f.attname for f in Offer.history.model.tracked_fields]
    existing: dict[str, _Existing] = {}
    for offset in range(0, len(external_ids), 5000):
        chunk = external_ids[offset : offset + 5000]
        for values in Offer.objects.filter(external_id__in=chunk).values(*attnames):
            existing[values["external_id"]] = _Existing(values, [], [])
    by_id = {item.values["id"]: item for item in existing.values()}
    if not by_id:
        return existing
    ids = list(by_id)
    themes_through = Offer.themes.through
    for offer_id, theme_id in themes_through.objects.filter(offer_id__in=ids).values_list(
        "offer_id", "theme_id"
    ):
        by_id[offer_id].theme_ids.append(theme_id)
    combine_through = Offer.cannot_combine_with.through
    for offer_id, other in combine_through.objects.filter(from_offer_id__in=ids).values_list(
        "from_offer_id", "to_offer__external_id"
    ):
        by_id[offer_id].combine.append(other)
    for item in existing.values():
        item.theme_ids.sort()
        item.combine.sort()
    return existing


def _defaults() -> dict[str, Any]:
    """The model's defaults for the optional columns, which a new offer takes when left out."""
    defaults = {
        name: Offer._meta.get_field(name).get_default()  # type: ignore[union-attr]
        for name in MODEL_FIELDS
        if name.removesuffix("_id") not in REQUIRED_FIELDS
    }
    defaults.update(
        {name: list(v) if isinstance(v, list) else v for name, v in NEW_OFFER_DEFAULTS.items()}
    )
    return defaults


def _import_rows(
    rows: list[Row],
    errors: list[RowError],
    *,
    reference: Reference,
    user: User | Any | None,
    result: ImportResult,
) -> None:
    existing = _load_existing([row.external_id for row in rows])
    kinds = {ref.id: ref.kind for ref in reference.organisations.values()}
    scoped_to = None
    if user is not None and not user.is_superuser:
        scoped_to = user.organisation_id if user.is_active else None

    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        before = existing.get(row.external_id)
        values: dict[str, Any] = dict(before.values) if before else {"external_id": row.external_id}
        if before is None:
            values.update(_defaults())
        values.update(row.values)
        if before is None and "operator_id" not in row.values:
            values["operator_id"] = values["owner_id"]
        if user is not None and not user.is_superuser:
            if before is not None and scoped_to not in (
                before.values["owner_id"],
                before.values["operator_id"],
            ):
                errors.append(
                    RowError(
                        row.line,
                        "external_id",
                        _("tilbuddet '%(id)s' tilhører en anden organisation")
                        % {"id": row.external_id},
                    )
                )
                continue
            if scoped_to is None or scoped_to not in (values["owner_id"], values["operator_id"]):
                errors.append(
                    RowError(
                        row.line,
                        "owner",
                        _("din organisation hverken ejer eller driver tilbuddet"),
                    )
                )
                continue
            problem = owner_change_error(
                user=user,
                owner_id=values["owner_id"],
                current_owner_id=before.values["owner_id"] if before else None,
            )
            if problem:
                errors.append(RowError(row.line, "owner", problem))
                continue
        violations = offer_rule_violations(values=values, owner_kind=kinds.get(values["owner_id"]))
        for name, messages in violations.items():
            errors.extend(RowError(row.line, name, message) for message in messages)
        merged[row.external_id] = values

    # cannot_combine_with may name offers in the file or already in the catalogue.
    wanted = {other for row in rows if row.combine for other in row.combine}
    missing = wanted - _ids_of(rows) - existing.keys()
    if missing:
        missing -= set(
            Offer.objects.filter(external_id__in=missing).values_list("external_id", flat=True)
        )
    for row in rows:
        for other in row.combine or []:
            if other in missing:
                errors.append(
                    RowError(
                        row.line,
                        "cannot_combine_with",
                        _("ukendt tilbud '%(id)s'") % {"id": other[:120]},
                    )
                )
    if errors:
        return

    pairs = _combine_pairs(rows, existing)
    if user is not None and not user.is_superuser:
        _check_combine_scope(rows, existing, pairs, errors, user=user)
        if errors:
            return
    now = timezone.now()
    actor = user if user is not None and getattr(user, "is_authenticated", False) else None
    actor_id = actor.pk if actor is not None else None
    creates: list[Offer] = []
    updates: list[Offer] = []
    theme_changes: dict[str, list[int]] = {}
    for row in rows:
        values = merged[row.external_id]
        before = existing.get(row.external_id)
        previous_status = before.values["status"] if before else None
        if values["status"] != previous_status:
            if values["status"] == Offer.Status.PUBLISHED:
                values["published_at"], values["published_by_id"] = now, actor_id
                values["archived_at"], values["archived_by_id"] = None, None
            elif values["status"] == Offer.Status.ARCHIVED:
                values["archived_at"], values["archived_by_id"] = now, actor_id
            else:
                values["archived_at"], values["archived_by_id"] = None, None
        theme_ids = (
            row.theme_ids if row.theme_ids is not None else (before.theme_ids if before else [])
        )
        combine_changed = before is not None and sorted(pairs.get(row.external_id, ())) != (
            before.combine
        )
        if before is None:
            result.created.append(row.external_id)
            creates.append(Offer(**values))
            theme_changes[row.external_id] = theme_ids
            continue
        fields_changed = any(
            values[name] != before.values[name] for name in (*MODEL_FIELDS, *_STAMP_FIELDS)
        )
        themes_changed = theme_ids != before.theme_ids
        if not (fields_changed or themes_changed or combine_changed):
            result.unchanged.append(row.external_id)
            continue
        result.updated.append(row.external_id)
        if themes_changed:
            theme_changes[row.external_id] = theme_ids
        if fields_changed or themes_changed:
            # A theme change is a change of the offer: a new updated_at and a history entry.
            values["updated_at"] = now
            updates.append(Offer(**values))

    _write(
        creates=creates,
        updates=updates,
        theme_changes=theme_changes,
        pairs=pairs,
        combine_rows=[row.external_id for row in rows if row.combine is not None],
        existing=existing,
        actor=actor,
        now=now,
        result=result,
    )


def _check_combine_scope(
    rows: list[Row],
    existing: Mapping[str, _Existing],
    pairs: Mapping[str, set[str]],
    errors: list[RowError],
    *,
    user: User | Any,
) -> None:
    """Report each row whose ``cannot_combine_with`` adds or removes a pair with an offer the
    user may not edit (the rows' own offers are in scope already).

    Every pair the import changes touches a row that carries the field (others keep their pairs),
    so comparing those rows' pairs before and after finds them all.
    """
    changed: dict[int, set[str]] = {}
    for row in rows:
        if row.combine is None:
            continue
        before = set(existing[row.external_id].combine) if row.external_id in existing else set()
        diff = (before ^ pairs.get(row.external_id, set())) - {row.external_id}
        if diff:
            changed[row.line] = diff
    others = {other for diff in changed.values() for other in diff} - _ids_of(rows)
    if not others:
        return
    editable = set(
        Offer.objects.editable_by(user)
        .filter(external_id__in=others)
        .values_list("external_id", flat=True)
    )
    for line, diff in sorted(changed.items()):
        refused = sorted(diff & (others - editable))
        if refused:
            errors.append(
                RowError(
                    line, "cannot_combine_with", combine_scope_message(o[:120] for o in refused)
                )
            )


def _ids_of(rows: Iterable[Row]) -> set[str]:
    return {row.external_id for row in rows}


def _combine_pairs(rows: list[Row], existing: Mapping[str, _Existing]) -> dict[str, set[str]]:
    """Each offer in the file → the offers it cannot be combined with after the import."""
    replaced = {row.external_id for row in rows if row.combine is not None}
    partners: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.external_id not in replaced:
            before = existing.get(row.external_id)
            # Kept pairs, except those a replacing row in this file dropped.
            for other in before.combine if before else []:
                if other not in replaced:
                    partners[row.external_id].add(other)
    for row in rows:
        for other in row.combine or []:
            partners[row.external_id].add(other)
            partners[other].add(row.external_id)
    return partners


def _write(
    *,
    creates: list[Offer],
    updates: list[Offer],
    theme_changes: dict[str, list[int]],
    pairs: dict[str, set[str]],
    combine_rows: list[str],
    existing: Mapping[str, _Existing],
    actor: Any,
    now: dt.datetime,
    result: ImportResult,
) -> None:
    with connection.cursor() as cursor:
        written = _upsert_offers(cursor, creates + updates, now=now)
        for offer in creates + updates:
            offer.pk = written[offer.external_id]
        if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
            _copy_history(cursor, creates, "+", actor=actor, now=now)
            _copy_history(cursor, updates, "~", actor=actor, now=now)

    ids = {offer.external_id: offer.pk for offer in creates}
    ids.update({key: item.values["id"] for key, item in existing.items()})
    touched = set(result.created) | set(result.updated)

    if theme_changes:
        through = Offer.themes.through
        changed_ids = [ids[key] for key in theme_changes]
        through.objects.filter(offer_id__in=changed_ids).delete()
        with connection.cursor() as cursor:
            _copy(
                cursor,
                through._meta.db_table,
                ["offer_id", "theme_id"],
                (
                    (ids[key], theme_id)
                    for key, theme_ids in theme_changes.items()
                    for theme_id in theme_ids
                ),
            )

    if combine_rows:
        pairs_through = Offer.cannot_combine_with.through
        others = {other for key in combine_rows for other in pairs.get(key, ())}
        others.update(
            other for key in combine_rows if key in existing for other in existing[key].combine
        )
        unknown = others - ids.keys()
        if unknown:
            ids.update(
                dict(Offer.objects.filter(external_id__in=unknown).values_list("external_id", "pk"))
            )
        replaced_ids = [ids[key] for key in combine_rows]
        pairs_through.objects.filter(
            models.Q(from_offer_id__in=replaced_ids) | models.Q(to_offer_id__in=replaced_ids)
        ).delete()
        edges = {(ids[key], ids[other]) for key in combine_rows for other in pairs.get(key, ())}
        edges |= {(b, a) for a, b in edges}
        with connection.cursor() as cursor:
            _copy(
                cursor,
                pairs_through._meta.db_table,
                ["from_offer_id", "to_offer_id"],
                sorted(edges),
            )

    if touched and not result.dry_run:
        refresh_search_vectors(offer_ids=sorted(ids[key] for key in touched))
    if len(creates) >= _ANALYZE_AFTER and not result.dry_run:
        # Planner statistics that still describe a small catalogue pick nested loops over
        # thousands of rows (seen: 3.6 s instead of 0.1 s for the open catalogue).
        with connection.cursor() as cursor:
            for model in (Offer, Offer.themes.through):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# COPY instead of bulk_create: for 10,000 rows Django's INSERT compilation and psycopg's
# parameter splitting cost more than the database's own work.


def _copy(cursor: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    with cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _column(field: Any) -> str:
    return str(field.column)


def _upsert_offers(cursor: Any, offers: list[Offer], *, now: dt.datetime) -> dict[str, int]:
    """Insert or update ``offers`` by external_id; return their ids by external_id."""
    if not offers:
        return {}
    quote = connection.ops.quote_name
    fields = [f for f in Offer._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(quote(_column(f)) for f in fields)
    updates = ", ".join(
        f"{quote(column)} = EXCLUDED.{quote(column)}"
        for column in (_column(Offer._meta.get_field(name)) for name in _UPSERT_FIELDS)
    )
    table = quote(Offer._meta.db_table)
    staging = "offers_offer_import"
    for offer in offers:
        offer.created_at = offer.created_at or now
        offer.updated_at = now
    cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{staging}")
    # Identifiers come from the model's metadata; every value travels through COPY.
    cursor.execute(f"CREATE TEMP TABLE {staging} AS SELECT {columns} FROM {table} WITH NO DATA")  # noqa: S608
    _copy(
        cursor,
        staging,
        [_column(f) for f in fields],
        ([getattr(o, f.attname) for f in fields] for o in offers),
    )
    cursor.execute(
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} "  # noqa: S608
        f"ON CONFLICT ({quote('external_id')}) DO UPDATE SET {updates} "
        f"RETURNING {quote('external_id')}, {quote('id')}"
    )
    written = dict(cursor.fetchall())
    cursor.execute(f"DROP TABLE pg_temp.{staging}")
    return written


def _copy_history(
    cursor: Any, offers: list[Offer], history_type: str, *, actor: Any, now: dt.datetime
) -> None:
    if not offers:
        return
    history = Offer.history.model
    special = {
        "history_date": now,
        "history_change_reason": None,
        "history_type": history_type,
        "history_user_id": actor.pk if actor is not None else None,
    }
    fields = [f for f in history._meta.concrete_fields if not f.primary_key]
    _copy(
        cursor,
        history._meta.db_table,
        [_column(f) for f in fields],
        (
            [special[f.attname] if f.attname in special else getattr(o, f.attname) for f in fields]
            for o in offers
        ),
    )
