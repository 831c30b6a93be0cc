"""One post of a form, however often it is sent.

A double click or a reload of a POST sends the same form twice. A form that must act once carries
a fresh nonce (``form_nonce()``, in a hidden field that accepts ``FORM_NONCE_PATTERN``); the view
claims it with ``FormOnce.claim()`` before it acts, records what the first post made with
``done(...)``, or gives the nonce back with ``release()`` when the post was refused, so that the
corrected form can be sent again with it. The claim is an atomic ``cache.add`` in the shared cache
(the database cache table), so it holds across web processes for ``seconds``.

This is a guard for signed-in users of the admin, whose nonce is scoped to the user. It is not
what makes a public guidance request idempotent: ``routing`` stores the form's nonce (and the
API's idempotency key) on the request itself, under a unique constraint committed with the case,
so a retry finds the first case forever, for anonymous visitors, and even if the cache is lost.
That is a stronger, different guarantee, and it stays in the database.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

#: What a nonce looks like.
FORM_NONCE_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
#: How long a claimed nonce is remembered.
FORM_ONCE_SECONDS = 60 * 60
_PENDING = "pending"


def form_nonce() -> str:
    """A new nonce for a form shown once."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class FormOnce:
    """The claim on one post of one form by one user (``scope`` names the form)."""

    scope: str
    user_id: Any
    nonce: str
    seconds: int = FORM_ONCE_SECONDS

    @property
    def key(self) -> str:
        return f"{self.scope}:{self.user_id}:{self.nonce}"

    def claim(self) -> bool:
        """True for the first post of the form (which now owns it), False for every later one.

        A form sent without a nonce is not guarded: every post of it is a first one.
        """
        if not self.nonce:
            return True
        return bool(cache.add(self.key, _PENDING, self.seconds))

    def result(self) -> Any | None:
        """What the first post recorded with ``done``; None while it is still at work."""
        value = cache.get(self.key) if self.nonce else None
        return None if value == _PENDING else value

    def done(self, result: Any) -> None:
        """Remember what the first post made, for the later posts to find."""
        if self.nonce:
            cache.set(self.key, result, self.seconds)

    def release(self) -> None:
        """Give the nonce back (the post was refused): the corrected form may use it again."""
        if self.nonce:
            cache.delete(self.key)
