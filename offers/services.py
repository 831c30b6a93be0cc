"""Workflows that change the catalogue: offers (save, publish, archive, revive, review), and the
themes and organisations whose names the search indexes with every offer.

Status transitions (the editorial workflow):

    draft ──► published ──► archived
      │                        │
      └────────► archived      └──► draft  (revive)

- A new offer starts as a draft, or is published at once when it is created ready.
- Unpublishing goes through archiving; there is no published → draft, so a withdrawn offer always
  leaves an ``archived_by/at`` trace.
- A draft that will never be published is archived rather than deleted: the history stays.
- An archived offer is revived as a draft (not straight to published), so last year's programme
  gets an editor's look at dates and texts before it is shown to companies again.

Publishing also counts as a review (``last_reviewed`` = today): an editor who publishes has read it.

Scope of an editor (a user who is not a superuser), the same on every write path (admin, API,
import), checked here so no path can forget it:

- They change only offers their organisation owns or operates, and the offer must still be owned
  or operated by it after the change.
- **Owner.** They may set the owner only to their own organisation, or keep the offer's current
  owner. An operator may keep running an offer another organisation owns, but never publishes in
  another organisation's name (``owner_change_error``).
- **"Cannot be combined with".** The relation is symmetrical, so a pair shows on both offers'
  public pages. An editor may add or remove a pair only when they may edit *both* offers; pairs
  they leave as they are stay untouched, whoever made them (``combine_change_error``). Pairs
  across organisations are made by a superuser, or by an editor of an organisation that owns or
  operates both offers.

Every write ends with ``refresh_search_vectors`` for the offers it changed, inside the same
transaction, so search never shows a stale text. That includes renaming a theme or an
organisation: the names are part of the search text of their offers, so the admin and every other
caller rename through ``theme_save`` and ``organisation_save`` rather than ``save()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.models import Level, Offer, Organisation, Theme
from offers.search.index import refresh_search_vectors

if TYPE_CHECKING:
    from accounts.models import User

Status = Offer.Status

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.PUBLISHED, Status.ARCHIVED}),
    Status.PUBLISHED: frozenset({Status.ARCHIVED}),
    Status.ARCHIVED: frozenset({Status.DRAFT}),
}
# Statuses a brand-new offer may be created with.
INITIAL_STATUSES = frozenset({Status.DRAFT, Status.PUBLISHED})

# The field each named DB constraint is about, so its error lands next to the right input.
CONSTRAINT_FIELDS: dict[str, str] = {
    "offers_offer_unique_external_id": "external_id",
    "offers_offer_deadline_not_before_valid_from": "application_deadline",
    "offers_offer_valid_to_not_before_valid_from": "valid_to",
    "offers_offer_municipal_offer_names_municipalities": "municipalities",
    "offers_offer_geography_is_nationwide_or_named": "nationwide",
    "offers_offer_has_phases_and_sizes": "phases",
    "offers_offer_gber_names_its_article": "gber_article",
    "offers_offer_de_minimis_has_an_aid_value": "aid_value_dkk",
}

M2M_FIELDS = frozenset({"themes", "cannot_combine_with"})


class OfferError(Exception):
    """A change to an offer that the catalogue rules do not allow; the message is user-safe.

    ``errors`` maps field names to messages when the problem belongs to particular fields.
    """

    def __init__(self, message: str, *, errors: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: dict[str, list[str]] = dict(errors or {})


def constraint_message(name: str) -> str:
    """The Danish violation message of a named Offer constraint."""
    for constraint in Offer._meta.constraints:
        if constraint.name == name:
            return str(constraint.get_violation_error_message())
    raise KeyError(name)


def cluster_nationwide_message() -> str:
    return _("Klyngers tilbud gælder altid i hele landet.")


def offer_rule_violations(
    *, values: Mapping[str, Any], owner_kind: str | None
) -> dict[str, list[str]]:
    """Check the offer rules on plain values, field by field, without the database.

    Mirrors the named DB constraints of ``Offer`` (see ``CONSTRAINT_FIELDS``) plus the rule that
    a cluster's offers are nationwide, so bulk paths (import) can report every problem with its
    field instead of failing on the first IntegrityError.
    """
    errors: dict[str, list[str]] = {}

    def add(constraint: str, field: str | None = None) -> None:
        errors.setdefault(field or CONSTRAINT_FIELDS[constraint], []).append(
            constraint_message(constraint)
        )

    valid_from = values.get("valid_from")
    deadline = values.get("application_deadline")
    valid_to = values.get("valid_to")
    if valid_from and deadline and deadline < valid_from:
        add("offers_offer_deadline_not_before_valid_from")
    if valid_from and valid_to and valid_to < valid_from:
        add("offers_offer_valid_to_not_before_valid_from")
    regions = values.get("regions") or []
    municipalities = values.get("municipalities") or []
    if values.get("level") == Level.MUNICIPALITY and not municipalities:
        add("offers_offer_municipal_offer_names_municipalities")
    nationwide = values.get("nationwide", True)
    geography_ok = (nationwide and not regions and not municipalities) or (
        not nationwide and bool(regions or municipalities)
    )
    if not geography_ok:
        add("offers_offer_geography_is_nationwide_or_named")
    basis = values.get("state_aid_basis")
    if basis == "gber" and not str(values.get("gber_article") or "").strip():
        add("offers_offer_gber_names_its_article")
    if basis == "de_minimis" and values.get("aid_value_dkk") is None:
        add("offers_offer_de_minimis_has_an_aid_value")
    if not values.get("phases"):
        add("offers_offer_has_phases_and_sizes", "phases")
    if not values.get("company_sizes"):
        add("offers_offer_has_phases_and_sizes", "company_sizes")
    if owner_kind == Organisation.Kind.CLUSTER and not (
        nationwide and not regions and not municipalities
    ):
        errors.setdefault("nationwide", []).append(cluster_nationwide_message())
    return errors


def transition_error(current: str | None, target: str) -> str | None:
    """Why ``current`` → ``target`` is not allowed, or None when it is (None = a new offer)."""
    if current == target:
        return None
    if current is None:
        if target in INITIAL_STATUSES:
            return None
        return _("Et nyt tilbud kan ikke oprettes som arkiveret.")
    if target in ALLOWED_TRANSITIONS.get(current, frozenset()):
        return None
    return _("Et tilbud kan ikke gå fra “%(current)s” til “%(target)s”.") % {
        "current": Status(current).label,
        "target": Status(target).label,
    }


def allowed_statuses(current: str | None) -> list[str]:
    """The statuses an editor can choose for an offer now in ``current`` (itself included)."""
    if current is None:
        return [s for s in Status.values if s in INITIAL_STATUSES]
    return [s for s in Status.values if s == current or s in ALLOWED_TRANSITIONS[current]]


def user_can_edit(*, user: User | Any, owner_id: int | None, operator_id: int | None) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    organisation_id = user.organisation_id
    return organisation_id is not None and organisation_id in (owner_id, operator_id)


def owner_change_error(
    *, user: User | Any, owner_id: int | None, current_owner_id: int | None
) -> str | None:
    """Why ``user`` may not make ``owner_id`` the owner, or None when they may.

    A non-superuser may name only their own organisation as owner, or keep the current owner
    (``current_owner_id``: the stored owner, None for a new offer).
    """
    if getattr(user, "is_superuser", False) or owner_id is None:
        return None
    if owner_id == current_owner_id or owner_id == getattr(user, "organisation_id", None):
        return None
    return owner_scope_message()


def owner_scope_message() -> str:
    return _(
        "Du kan kun angive din egen organisation som ejer, eller beholde tilbuddets nuværende ejer."
    )


def combine_scope_message(names: Iterable[str]) -> str:
    return _(
        "Du kan kun tilføje eller fjerne “kan ikke kombineres med” mellem tilbud, som din "
        "organisation ejer eller driver. Det gælder: %(offers)s."
    ) % {"offers": ", ".join(names)}


def combine_change_error(
    *,
    user: User | Any,
    offer_id: int | None,
    after: Iterable[Offer | int],
) -> str | None:
    """Why ``user`` may not give offer ``offer_id`` exactly the pairs ``after``, or None.

    Only the pairs that change count (added or removed); each must join two offers the user may
    edit. The offer itself is checked by the caller (``offer_save`` requires it editable).
    """
    if getattr(user, "is_superuser", False):
        return None
    wanted = {item.pk if isinstance(item, Offer) else int(item) for item in after}
    before: set[int] = set()
    if offer_id is not None:
        before = set(
            Offer.cannot_combine_with.through.objects.filter(from_offer_id=offer_id).values_list(
                "to_offer_id", flat=True
            )
        )
    changed = (wanted ^ before) - {offer_id}
    if not changed:
        return None
    editable = set(
        Offer.objects.editable_by(user).filter(pk__in=changed).values_list("pk", flat=True)
    )
    refused = changed - editable
    if not refused:
        return None
    names = (
        Offer.objects.filter(pk__in=refused)
        .order_by("external_id")
        .values_list("external_id", flat=True)
    )
    return combine_scope_message(names)


def _check_editable(*, offer: Offer, user: User | Any) -> None:
    if offer.pk is None:
        return
    if not Offer.objects.editable_by(user).filter(pk=offer.pk).exists():
        raise OfferError(_("Du kan kun ændre tilbud, som din organisation ejer eller driver."))


def _actor(user: User | Any) -> User | None:
    return user if getattr(user, "is_authenticated", False) else None


def _stamp_status(*, offer: Offer, previous: str | None, user: User | Any) -> None:
    # The history entry names the actor also outside a request (commands, tasks, the API).
    offer._history_user = _actor(user)  # type: ignore[attr-defined]
    if offer.status == previous:
        return
    now = timezone.now()
    actor = _actor(user)
    if offer.status == Status.PUBLISHED:
        offer.published_at = now
        offer.published_by = actor
        offer.archived_at = None
        offer.archived_by = None
        offer.last_reviewed = timezone.localdate()
    elif offer.status == Status.ARCHIVED:
        offer.archived_at = now
        offer.archived_by = actor
    elif offer.status == Status.DRAFT:
        offer.archived_at = None
        offer.archived_by = None


def _validation_errors(error: ValidationError) -> dict[str, list[str]]:
    if not hasattr(error, "error_dict"):
        return {NON_FIELD_ERRORS: [str(m) for m in error.messages]}
    errors: dict[str, list[str]] = {}
    for field, field_errors in error.error_dict.items():
        for item in field_errors:
            target = field
            if field == NON_FIELD_ERRORS:
                target = _field_for_message(" ".join(item.messages)) or field
            errors.setdefault(target, []).extend(str(m) for m in item.messages)
    return errors


def _field_for_message(message: str) -> str | None:
    for name, field in CONSTRAINT_FIELDS.items():
        if constraint_message(name) == message:
            return field
    return None


def _first_message(errors: Mapping[str, list[str]]) -> str:
    for messages in errors.values():
        if messages:
            return messages[0]
    return _("Tilbuddet kunne ikke gemmes.")


@transaction.atomic
def offer_save(
    *,
    user: User | Any,
    offer: Offer | None = None,
    data: Mapping[str, Any] | None = None,
) -> Offer:
    """Create (``offer=None``) or change an offer on behalf of ``user``.

    ``data`` holds model field values to apply (``owner``/``operator`` as organisations,
    ``themes`` and ``cannot_combine_with`` as iterables of objects or ids); an ``offer`` passed
    in may already carry changes (as the admin form leaves them). A status change follows the
    workflow above and records who and when.
    """
    offer = offer if offer is not None else Offer()
    data = dict(data or {})
    unknown = sorted(key for key in data if key not in M2M_FIELDS and not _is_editable_field(key))
    if unknown:
        raise OfferError(_("Ukendte felter: %(fields)s") % {"fields": ", ".join(unknown)})

    previous_status: str | None = None
    stored_owner_id: int | None = None
    if offer.pk is not None:
        _check_editable(offer=offer, user=user)
        previous_status, stored_owner_id = (
            Offer.objects.filter(pk=offer.pk).values_list("status", "owner_id").get()
        )

    themes = data.pop("themes", None)
    cannot_combine_with = data.pop("cannot_combine_with", None)
    for key, value in data.items():
        setattr(offer, key, value)

    if not user_can_edit(user=user, owner_id=offer.owner_id, operator_id=offer.operator_id):
        raise OfferError(
            _("Din organisation skal eje eller drive tilbuddet."),
            errors={"owner": [_("Din organisation skal eje eller drive tilbuddet.")]},
        )
    problem = owner_change_error(
        user=user, owner_id=offer.owner_id, current_owner_id=stored_owner_id
    )
    if problem:
        raise OfferError(problem, errors={"owner": [problem]})
    if cannot_combine_with is not None:
        problem = combine_change_error(user=user, offer_id=offer.pk, after=cannot_combine_with)
        if problem:
            raise OfferError(problem, errors={"cannot_combine_with": [problem]})
    status_problem = transition_error(previous_status, offer.status)
    if status_problem:
        raise OfferError(status_problem, errors={"status": [status_problem]})

    owner_kind = (
        Organisation.objects.filter(pk=offer.owner_id).values_list("kind", flat=True).first()
    )
    rule_errors = offer_rule_violations(
        values={f: getattr(offer, f) for f in _RULE_FIELDS}, owner_kind=owner_kind
    )
    if rule_errors:
        raise OfferError(_first_message(rule_errors), errors=rule_errors)
    try:
        offer.full_clean(exclude=["themes", "cannot_combine_with"])
    except ValidationError as error:
        errors = _validation_errors(error)
        raise OfferError(_first_message(errors), errors=errors) from error

    _stamp_status(offer=offer, previous=previous_status, user=user)
    offer.save()
    if themes is not None:
        offer.themes.set(themes)
    if cannot_combine_with is not None:
        offer.cannot_combine_with.set(cannot_combine_with)
    refresh_search_vectors(offer_ids=[offer.pk])
    return offer


_RULE_FIELDS = (
    "level",
    "nationwide",
    "regions",
    "municipalities",
    "phases",
    "company_sizes",
    "valid_from",
    "valid_to",
    "application_deadline",
)


def _is_editable_field(name: str) -> bool:
    try:
        field = Offer._meta.get_field(name)
    except Exception:  # FieldDoesNotExist: an unknown name is reported together with others.
        return False
    return bool(getattr(field, "editable", False)) and not isinstance(field, models.AutoField)


def _change_status(*, offer: Offer, user: User | Any, target: str) -> Offer:
    _check_editable(offer=offer, user=user)
    current = Offer.objects.filter(pk=offer.pk).values_list("status", flat=True).get()
    if current == target:
        raise OfferError(
            _("“%(title)s” er allerede %(status)s.")
            % {"title": offer.title, "status": Status(target).label.lower()}
        )
    problem = transition_error(current, target)
    if problem:
        raise OfferError(f"“{offer.title}”: {problem}")
    offer.status = target
    _stamp_status(offer=offer, previous=current, user=user)
    offer.save()
    refresh_search_vectors(offer_ids=[offer.pk])
    return offer


@transaction.atomic
def offer_publish(*, offer: Offer, user: User | Any) -> Offer:
    """Show a draft to companies; records who published it and when, and counts as a review."""
    return _change_status(offer=offer, user=user, target=Status.PUBLISHED)


@transaction.atomic
def offer_archive(*, offer: Offer, user: User | Any) -> Offer:
    """Take an offer out of the catalogue (or shelve a draft) and record who did it and when."""
    return _change_status(offer=offer, user=user, target=Status.ARCHIVED)


@transaction.atomic
def offer_revive(*, offer: Offer, user: User | Any) -> Offer:
    """Bring an archived offer back as a draft, to be checked and published again."""
    return _change_status(offer=offer, user=user, target=Status.DRAFT)


@transaction.atomic
def offer_mark_reviewed(
    *, offers: Iterable[Offer] | models.QuerySet[Offer], user: User | Any, on: dt.date | None = None
) -> int:
    """Record that an editor has checked these offers today; returns how many were marked.

    All or nothing: one offer outside the editor's organisation stops the whole action, so an
    editor never believes they reviewed something they could not.
    """
    from simple_history.utils import bulk_update_with_history

    ids = [offer.pk for offer in offers]
    if not ids:
        return 0
    editable = list(Offer.objects.editable_by(user).filter(pk__in=ids).order_by("pk"))
    if len(editable) != len(set(ids)):
        raise OfferError(_("Du kan kun gennemgå tilbud, som din organisation ejer eller driver."))
    day = on or timezone.localdate()
    now = timezone.now()
    for offer in editable:
        offer.last_reviewed = day
        offer.updated_at = now
    actor = _actor(user)
    bulk_update_with_history(
        editable, Offer, ["last_reviewed", "updated_at"], default_user=actor, default_date=now
    )
    refresh_search_vectors(offer_ids=ids)
    return len(editable)


# --- Names the search indexes ---------------------------------------------------------------------

# A change of either theme name refreshes: the index holds ``name`` today, and a refresh of one
# theme's offers is cheap next to a search that lags behind a rename.
_INDEXED_THEME_FIELDS = ("name", "name_en")
_INDEXED_ORGANISATION_FIELDS = ("name",)


def _renamed(instance: models.Model, fields: tuple[str, ...]) -> bool:
    if instance.pk is None:
        return False
    stored = type(instance)._default_manager.filter(pk=instance.pk).values(*fields).first()
    return stored is not None and any(stored[name] != getattr(instance, name) for name in fields)


@transaction.atomic
def theme_save(*, theme: Theme) -> Theme:
    """Save a theme; when it is renamed, refresh the search data of every offer that carries it."""
    renamed = _renamed(theme, _INDEXED_THEME_FIELDS)
    theme.save()
    if renamed:
        refresh_search_vectors(theme_ids=[theme.pk])
    return theme


@transaction.atomic
def organisation_save(*, organisation: Organisation) -> Organisation:
    """Save an organisation; when it is renamed, refresh the search data of its offers.

    Owner and operator names are indexed with every offer the organisation owns or operates.
    """
    renamed = _renamed(organisation, _INDEXED_ORGANISATION_FIELDS)
    organisation.save()
    if renamed:
        refresh_search_vectors(organisation_ids=[organisation.pk])
    return organisation
