"""The needs vocabulary as matching uses it: the file merged with the words editors added in the
admin (``routing.models.VocabularyWord``).

Every process keeps the merged vocabulary with the version of the rows it was built from (how
many rows, the last id, the last change). :func:`current_vocabulary` reads that version, one
small aggregate query, at most once every :data:`CHECK_SECONDS` (a round trip costs about as
much as the scoring itself), and rebuilds the vocabulary when an editor changed it, so an added
word reaches every matching process within a second.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db.models import Count, Max

from routing.models import VocabularyWord
from routing.vocabulary import Vocabulary, default_vocabulary, load_vocabulary_data, merged

#: How long a process trusts the version it read last.
CHECK_SECONDS = 1.0

_lock = threading.Lock()
_built: tuple[Any, Vocabulary] | None = None
#: (when the version was read, by ``time.monotonic``; the vocabulary it gave).
_checked: tuple[float, Vocabulary] | None = None


def vocabulary_version() -> tuple[int, int, str]:
    """How many words editors added, the last id and the last change: any edit changes it."""
    found = VocabularyWord.objects.aggregate(
        count=Count("id"), last=Max("id"), changed=Max("updated_at")
    )
    changed = found["changed"]
    return (found["count"], found["last"] or 0, changed.isoformat() if changed else "")


def current_vocabulary(*, max_age: float = CHECK_SECONDS, now: float | None = None) -> Vocabulary:
    """The vocabulary file with the editors' words, rebuilt when they change. The version is
    read again when the last reading is older than ``max_age`` seconds (``now``: a
    ``time.monotonic`` reading; 0 reads it every time)."""
    global _checked
    moment = time.monotonic() if now is None else now
    checked = _checked
    if checked is not None and max_age > 0 and 0 <= moment - checked[0] < max_age:
        return checked[1]
    vocabulary = _rebuilt_if_changed()
    _checked = (moment, vocabulary)
    return vocabulary


def _rebuilt_if_changed() -> Vocabulary:
    global _built
    version = vocabulary_version()
    if version[0] == 0:
        _built = None
        return default_vocabulary()
    built = _built
    if built is not None and built[0] == version:
        return built[1]
    with _lock:
        rows = VocabularyWord.objects.order_by("id").values_list(
            "concept", "word", "where", "label_da", "label_en"
        )
        vocabulary = Vocabulary(merged(load_vocabulary_data(), list(rows)))
        _built = (version, vocabulary)
    return vocabulary


def latest_vocabulary() -> Vocabulary:
    """The vocabulary this process built last (no query): enough to word reasons, whose
    concepts came from it."""
    built = _built
    return built[1] if built is not None else default_vocabulary()
