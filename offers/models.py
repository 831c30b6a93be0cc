"""The map of the system: geography, organisations, themes, strength positions and offers."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from simple_history.models import HistoricalRecords

from offers.db07 import is_group
from offers.hub_terms import hub_one, hub_words
from offers.querysets import OfferQuerySet, OrganisationQuerySet


def validate_industry_group(value: str) -> None:
    """A DB07 main group: two digits that name one ("31"; not "04" or "3")."""
    if not is_group(value):
        raise ValidationError(
            _("„%(value)s“ er ikke en DB07-hovedgruppe (to cifre, f.eks. 31)."),
            code="invalid_industry_group",
            params={"value": value[:10]},
        )


class Level(models.TextChoices):
    """Who owns and funds an offer, and which level a theme belongs to."""

    STATE = "state", _("Stat")
    REGION = "region", _("Region")
    MUNICIPALITY = "municipality", _("Kommune")


class Phase(models.TextChoices):
    IDEA = "idea", _("Idé")
    STARTUP = "startup", _("Opstart")
    GROWTH = "growth", _("Vækst")
    ESTABLISHED = "established", _("Etableret")


class CompanySize(models.TextChoices):
    MICRO = "micro", _("Under 10 ansatte")
    SMALL = "small", _("10–49 ansatte")
    MEDIUM = "medium", _("50–249 ansatte")
    LARGE = "large", _("250 eller flere ansatte")

    @classmethod
    def for_employees(cls, employees: int | None) -> CompanySize | None:
        if employees is None:
            return None
        if employees < 10:
            return cls.MICRO
        if employees < 50:
            return cls.SMALL
        if employees < 250:
            return cls.MEDIUM
        return cls.LARGE


class StateAidBasis(models.TextChoices):
    """The legal basis of the state aid a participation is (docs/effects.md, "State aid")."""

    NONE = "none", _("Ingen statsstøtte")
    DE_MINIMIS = "de_minimis", _("De minimis (forordning (EU) 2023/2831)")
    GBER = "gber", _("Gruppefritagelse (GBER, forordning (EU) 651/2014)")


class Price(models.TextChoices):
    FREE = "free", _("Gratis")
    SUBSIDISED = "subsidised", _("Medfinansieret")
    PAID = "paid", _("Betalt")
    # What an import without a price gets: said as it is, never guessed as free.
    NOT_STATED = "not_stated", _("Pris ikke oplyst")


class Industry(models.TextChoices):
    """DB07 sections (Dansk Branchekode 2007, the Danish NACE rev. 2)."""

    A = "A", _("Landbrug, jagt, skovbrug og fiskeri")
    B = "B", _("Råstofindvinding")
    C = "C", _("Fremstillingsvirksomhed")
    D = "D", _("El-, gas- og fjernvarmeforsyning")
    E = "E", _("Vandforsyning, kloakvæsen, affaldshåndtering og rensning af jord og grundvand")
    F = "F", _("Bygge- og anlægsvirksomhed")
    G = "G", _("Engroshandel og detailhandel; reparation af motorkøretøjer og motorcykler")
    H = "H", _("Transport og godshåndtering")
    I = "I", _("Overnatningsfaciliteter og restaurationsvirksomhed")  # noqa: E741
    J = "J", _("Information og kommunikation")
    K = "K", _("Pengeinstitut- og finansvirksomhed, forsikring")
    L = "L", _("Fast ejendom")
    M = "M", _("Liberale, videnskabelige og tekniske tjenesteydelser")
    N = "N", _("Administrative tjenesteydelser og hjælpetjenester")
    O = "O", _("Offentlig administration, forsvar og socialsikring")  # noqa: E741
    P = "P", _("Undervisning")
    Q = "Q", _("Menneskers sundhed og socialvæsen")
    R = "R", _("Kultur, forlystelser og sport")
    S = "S", _("Andre serviceydelser")
    T = "T", _("Private husholdninger med ansat medhjælp")
    U = "U", _("Ekstraterritoriale organisationer og organer")


class Region(models.Model):
    code = models.PositiveSmallIntegerField(_("regionskode"), primary_key=True)
    name = models.CharField(_("navn"), max_length=100, unique=True)
    slug = models.SlugField(_("kort navn"), unique=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regioner")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


#: Municipalities whose official name is not "<name> Kommune".
MUNICIPALITY_OFFICIAL_NAMES = {400: "Bornholms Regionskommune"}


def municipality_name(code: int, name: str) -> str:
    """A municipality as Danes write it: "Vejle Kommune", "Bornholms Regionskommune"."""
    return MUNICIPALITY_OFFICIAL_NAMES.get(code, f"{name} Kommune")


class Municipality(models.Model):
    code = models.PositiveSmallIntegerField(_("kommunekode"), primary_key=True)
    name = models.CharField(_("navn"), max_length=100, unique=True)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="municipalities"
    )

    class Meta:
        verbose_name = _("kommune")
        verbose_name_plural = _("kommuner")
        ordering = ["name"]

    def __str__(self) -> str:
        return municipality_name(self.code, self.name)


class StrengthPosition(models.Model):
    """A Danish business strength position, each with at most one funded national cluster."""

    slug = models.SlugField(_("kort navn"), unique=True)
    name = models.CharField(_("navn"), max_length=150)
    name_en = models.CharField(_("navn på engelsk"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("styrkeposition")
        verbose_name_plural = _("styrkepositioner")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.name_en if get_language() == "en" and self.name_en else self.name


class Organisation(models.Model):
    class Kind(models.TextChoices):
        STATE_AGENCY = "state_agency", _("Statslig myndighed")
        REGION = "region", _("Region")
        MUNICIPALITY = "municipality", _("Kommune")
        BUSINESS_HUB = "business_hub", hub_one()
        CLUSTER = "cluster", _("Klynge")
        BUSINESS_REGION = "business_region", _("Erhvervssamarbejde (business region)")
        KNOWLEDGE_INSTITUTION = "knowledge_institution", _("Videninstitution")
        PRIVATE_OPERATOR = "private_operator", _("Privat operatør")

    slug = models.SlugField(_("kort navn"), max_length=100)
    name = models.CharField(_("navn"), max_length=200)
    kind = models.CharField(_("type"), max_length=30, choices=Kind.choices)
    level = models.CharField(_("niveau"), max_length=20, choices=Level.choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
        help_text=hub_words(_("For regioner og %(hubs)s: den region, de dækker.")),
    )
    municipality = models.OneToOneField(
        Municipality,
        verbose_name=_("kommune"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisation",
    )
    member_municipalities = models.ManyToManyField(
        Municipality,
        verbose_name=_("medlemskommuner"),
        blank=True,
        related_name="business_regions",
        help_text=_("For erhvervssamarbejder: de kommuner, der er med."),
    )
    strength_position = models.ForeignKey(
        StrengthPosition,
        verbose_name=_("styrkeposition"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clusters",
    )
    publicly_funded = models.BooleanField(
        _("offentligt finansieret national klynge"),
        default=False,
        help_text=_("Højst én offentligt finansieret klynge pr. styrkeposition."),
    )
    website = models.URLField(_("websted"), blank=True)
    contact_email = models.EmailField(_("kontakt-e-mail"), blank=True)
    contact_phone = models.CharField(_("kontakttelefon"), max_length=30, blank=True)
    address = models.CharField(_("adresse"), max_length=200, blank=True)
    inbox_email = models.EmailField(
        _("indbakke for nye sager"),
        blank=True,
        help_text=hub_words(_("%(hubs)s: hertil sendes besked om nye sager.")),
    )

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisationer")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="offers_organisation_unique_slug"),
            models.UniqueConstraint(
                fields=["strength_position"],
                condition=Q(publicly_funded=True),
                name="offers_organisation_one_funded_cluster_per_strength_position",
                violation_error_message=_(
                    "Der er allerede en offentligt finansieret national klynge for denne "
                    "styrkeposition."
                ),
            ),
            models.CheckConstraint(
                condition=Q(publicly_funded=False)
                | Q(kind="cluster", strength_position__isnull=False),
                name="offers_organisation_funded_cluster_has_strength_position",
                violation_error_message=_(
                    "Kun en klynge med en styrkeposition kan være offentligt finansieret."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Theme(models.Model):
    slug = models.SlugField(_("kort navn"), unique=True)
    name = models.CharField(_("navn"), max_length=100)
    name_en = models.CharField(_("navn på engelsk"), max_length=100, blank=True)
    responsible_level = models.CharField(
        _("ansvarligt niveau"),
        max_length=20,
        choices=Level.choices,
        help_text=_("Arbejdsdelingen: hvilket niveau ejer temaet."),
    )
    position = models.PositiveSmallIntegerField(_("rækkefølge"), default=0)

    class Meta:
        verbose_name = _("tema")
        verbose_name_plural = _("temaer")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.name_en if get_language() == "en" and self.name_en else self.name


def _choices_array(
    choices: type[models.TextChoices], verbose_name: StrOrPromise, *, blank: bool = False
) -> ArrayField:
    return ArrayField(
        models.CharField(max_length=20, choices=choices.choices),
        verbose_name=verbose_name,
        default=list,
        blank=blank,
    )


class Offer(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Kladde")
        PUBLISHED = "published", _("Offentliggjort")
        ARCHIVED = "archived", _("Arkiveret")

    external_id = models.SlugField(
        _("ekstern id"),
        max_length=100,
        help_text=_("Stabil nøgle, som import, eksport og links bruger."),
    )
    title = models.CharField(_("titel"), max_length=200)
    summary = models.CharField(_("kort beskrivelse"), max_length=500)
    description = models.TextField(_("beskrivelse"), blank=True)
    expected_result = models.TextField(_("forventet resultat"), blank=True)
    how_to_apply = models.TextField(_("sådan søger du"), blank=True)
    delivery_time = models.CharField(_("forventet leveringstid"), max_length=100, blank=True)
    languages = ArrayField(
        models.CharField(max_length=5), verbose_name=_("sprog"), default=list, blank=True
    )
    level = models.CharField(_("niveau"), max_length=20, choices=Level.choices)
    owner = models.ForeignKey(
        Organisation,
        verbose_name=_("ejer"),
        on_delete=models.PROTECT,
        related_name="owned_offers",
    )
    operator = models.ForeignKey(
        Organisation,
        verbose_name=_("operatør"),
        on_delete=models.PROTECT,
        related_name="operated_offers",
    )
    themes = models.ManyToManyField(Theme, verbose_name=_("temaer"), related_name="offers")
    phases = _choices_array(Phase, _("faser"))
    company_sizes = _choices_array(CompanySize, _("virksomhedsstørrelser"))
    industries = ArrayField(
        models.CharField(max_length=1, choices=Industry.choices),
        verbose_name=_("brancher (DB07)"),
        default=list,
        blank=True,
        help_text=_("Tom betyder alle brancher."),
    )
    # The finer target: DB07 main groups (two digits, "31" furniture), each in a section above
    # when sections are chosen. Matching prefers it to the groups the offer's texts name.
    industry_groups = ArrayField(
        models.CharField(max_length=2, validators=[validate_industry_group]),
        verbose_name=_("branchegrupper (DB07)"),
        default=list,
        blank=True,
        help_text=_(
            "DB07-hovedgrupper med to cifre, adskilt af komma, f.eks. „31, 14“ for møbler og "
            "tøj. Tom betyder alle grupper i de valgte brancher."
        ),
    )
    nationwide = models.BooleanField(_("i hele landet"), default=True)
    regions = ArrayField(
        models.PositiveSmallIntegerField(),
        verbose_name=_("regioner"),
        default=list,
        blank=True,
        help_text=_("Regionskoder, når tilbuddet ikke gælder i hele landet."),
    )
    municipalities = ArrayField(
        models.PositiveSmallIntegerField(),
        verbose_name=_("kommuner"),
        default=list,
        blank=True,
        help_text=_("Kommunekoder, når tilbuddet ikke gælder i hele landet."),
    )
    url = models.URLField(_("link"), max_length=500, blank=True)
    contact_email = models.EmailField(_("kontakt-e-mail"), blank=True)
    contact_phone = models.CharField(_("kontakttelefon"), max_length=30, blank=True)
    price = models.CharField(_("pris"), max_length=20, choices=Price.choices)
    # "Medfinansieret" alone does not tell a company what it pays: the share or the amount.
    price_details = models.CharField(_("hvad virksomheden betaler"), max_length=200, blank=True)
    # The company's de minimis headroom decides whether a de minimis offer still fits.
    state_aid_basis = models.CharField(
        _("statsstøttegrundlag"),
        max_length=20,
        choices=StateAidBasis.choices,
        default=StateAidBasis.NONE,
    )
    gber_article = models.CharField(
        _("artikel i gruppefritagelsesforordningen"),
        max_length=20,
        blank=True,
        help_text=_("F.eks. „18“ (rådgivning til SMV’er) eller „19“ (messer)."),
    )
    aid_value_dkk = models.PositiveIntegerField(
        _("støtteværdi pr. deltagelse (kr.)"), null=True, blank=True
    )
    application_deadline = models.DateField(_("ansøgningsfrist"), null=True, blank=True)
    valid_from = models.DateField(_("gyldig fra"), null=True, blank=True)
    valid_to = models.DateField(_("gyldig til"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    last_reviewed = models.DateField(_("senest gennemgået"), null=True, blank=True)
    # Symmetrical: a pair shows on both offers' public pages, so an editor adds or removes a pair
    # only where they may edit both offers (offers.services.combine_change_error; every write
    # path, admin, API and import, goes through that rule).
    cannot_combine_with = models.ManyToManyField(
        "self", verbose_name=_("kan ikke kombineres med"), blank=True, symmetrical=True
    )

    published_at = models.DateTimeField(_("offentliggjort"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("offentliggjort af"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    archived_at = models.DateTimeField(_("arkiveret"), null=True, blank=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("arkiveret af"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("oprettet"), auto_now_add=True)
    updated_at = models.DateTimeField(_("ændret"), auto_now=True)

    # Derived search data, maintained only by offers.search.refresh_search_vectors (every write
    # path calls it after saving an offer, its themes, or a theme's or organisation's name).
    search_vector = SearchVectorField(null=True, editable=False)
    # What the search indexes beyond the offer's own texts: theme and organisation names and
    # the parts of compound words.
    search_text = models.TextField(editable=False, blank=True, default="")
    # Denormalised for the search facets, so counting them needs no join per offer.
    theme_ids = ArrayField(models.BigIntegerField(), default=list, blank=True, editable=False)
    # Regions a non-nationwide offer applies in: those listed plus those of the listed
    # municipalities (empty for a nationwide offer, which applies everywhere).
    reach_regions = ArrayField(
        models.PositiveSmallIntegerField(), default=list, blank=True, editable=False
    )
    # One bit per value of the fixed-vocabulary facets (see offers.search.FACET_BITS).
    facet_bits = models.BigIntegerField(default=0, editable=False)

    history = HistoricalRecords(
        excluded_fields=[
            "search_vector",
            "search_text",
            "theme_ids",
            "reach_regions",
            "facet_bits",
            "updated_at",
        ]
    )
    objects = OfferQuerySet.as_manager()

    class Meta:
        verbose_name = _("tilbud")
        verbose_name_plural = pgettext_lazy("flertal", "tilbud")
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="offers_offer_unique_external_id"),
            models.CheckConstraint(
                condition=Q(application_deadline__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(application_deadline__gte=F("valid_from")),
                name="offers_offer_deadline_not_before_valid_from",
                violation_error_message=_("Ansøgningsfristen kan ikke ligge før gyldig fra."),
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="offers_offer_valid_to_not_before_valid_from",
                violation_error_message=_("Gyldig til kan ikke ligge før gyldig fra."),
            ),
            models.CheckConstraint(
                condition=~Q(state_aid_basis="gber") | ~Q(gber_article=""),
                name="offers_offer_gber_names_its_article",
                violation_error_message=_(
                    "Et tilbud under gruppefritagelsen skal angive artiklen."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(state_aid_basis="de_minimis") | Q(aid_value_dkk__isnull=False),
                name="offers_offer_de_minimis_has_an_aid_value",
                violation_error_message=_(
                    "Et de minimis-tilbud skal angive støtteværdien pr. deltagelse."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(level="municipality") | Q(municipalities__len__gt=0),
                name="offers_offer_municipal_offer_names_municipalities",
                violation_error_message=_("Et kommunalt tilbud skal angive sine kommuner."),
            ),
            models.CheckConstraint(
                condition=Q(nationwide=True, regions__len=0, municipalities__len=0)
                | Q(nationwide=False, regions__len__gt=0)
                | Q(nationwide=False, municipalities__len__gt=0),
                name="offers_offer_geography_is_nationwide_or_named",
                violation_error_message=_(
                    "Et tilbud gælder enten i hele landet eller i bestemte regioner eller kommuner."
                ),
            ),
            models.CheckConstraint(
                condition=Q(phases__len__gt=0) & Q(company_sizes__len__gt=0),
                name="offers_offer_has_phases_and_sizes",
                violation_error_message=_("Angiv mindst én fase og én virksomhedsstørrelse."),
            ),
        ]
        indexes = [
            # Full-text search on /tilbud/ and the API: WHERE search_vector @@ query.
            GinIndex(fields=["search_vector"], name="offers_offer_search_gin"),
            # Geography filters and routing eligibility: regions/municipalities && ARRAY[...].
            GinIndex(fields=["regions"], name="offers_offer_regions_gin"),
            GinIndex(fields=["municipalities"], name="offers_offer_municip_gin"),
            # The catalogue search (offers.search, query 2) reads every published offer's
            # filters, facet values and sort keys from this index alone (an index-only scan),
            # never from the wide rows with texts and vectors.
            models.Index(
                fields=["status"],
                include=[
                    "id",
                    "valid_from",
                    "valid_to",
                    "application_deadline",
                    "nationwide",
                    "regions",
                    "municipalities",
                    "facet_bits",
                    "theme_ids",
                    "operator",
                    "title",
                    "published_at",
                    "created_at",
                ],
                name="offers_offer_search_cover",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("offers:detail", args=[self.external_id])

    def is_open_on(self, day: dt.date) -> bool:
        """Whether a company can use the offer on ``day``: published, valid, before deadline."""
        if self.status != self.Status.PUBLISHED:
            return False
        if self.valid_from and day < self.valid_from:
            return False
        if self.valid_to and day > self.valid_to:
            return False
        return not (self.application_deadline and day > self.application_deadline)

    @property
    def is_open(self) -> bool:
        return self.is_open_on(timezone.localdate())

    def is_stale_on(self, day: dt.date) -> bool:
        months = settings.OFFER_STALE_MONTHS
        if self.last_reviewed is None:
            return True
        limit = _months_before(day, months)
        return self.last_reviewed < limit

    @property
    def is_stale(self) -> bool:
        return self.is_stale_on(timezone.localdate())


class OfferSearchTerm(models.Model):
    """A word seen in the published catalogue, for typo correction and "Mente du …?".

    Rebuilt by offers.search.refresh_search_vectors; never edited by hand.
    """

    word = models.CharField(_("ord"), max_length=100)
    # The word's stem in the danish configuration: a query word whose stem is here is known.
    lexeme = models.CharField(_("stamme"), max_length=100)
    documents = models.PositiveIntegerField(_("antal tilbud"), default=1)

    class Meta:
        verbose_name = _("søgeord")
        verbose_name_plural = _("søgeord")
        constraints = [
            models.UniqueConstraint(fields=["word"], name="offers_offersearchterm_unique_word"),
        ]
        indexes = [
            # Spelling correction: WHERE lower(word) % 'digitalsering' ORDER BY similarity(...).
            # On lower(word), not word: on the plain column the planner also used it for
            # word = '...' look-ups, at a hundred times the cost of the unique index.
            GinIndex(
                OpClass(Lower("word"), name="gin_trgm_ops"), name="offers_searchterm_word_trgm"
            ),
            # Is a query word known? WHERE lexeme = ANY(stems of the query words).
            models.Index(fields=["lexeme"], name="offers_searchterm_lexeme"),
        ]

    def __str__(self) -> str:
        return self.word


def _months_before(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    # Clamp the day to the length of the target month (31 March - 1 month = 28/29 February).
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise ValueError(day)
