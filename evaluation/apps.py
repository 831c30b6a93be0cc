from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# What the offer page shows of the effect measurement changes only when a run completes (or a
# completed run is removed): part of the version the public answers are kept under.
PUBLISHED_EFFECTS_VERSION_SQL = (
    "(SELECT count(*)::text || ':' || coalesce(max(id), 0)::text || ':'"
    " || coalesce(max(finished_at)::text, '') FROM evaluation_effectrun"
    " WHERE status = 'completed')"
)


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = _("Effektmåling")

    def ready(self) -> None:
        from offers.public_cache import add_version_source

        add_version_source(PUBLISHED_EFFECTS_VERSION_SQL, table="evaluation_effectrun")

        from crm.offer_notes import add_offer_note_source
        from evaluation.selectors import effect_evidence, effect_notes
        from routing.services import set_effect_evidence_source

        set_effect_evidence_source(effect_evidence)
        add_offer_note_source(effect_notes)
