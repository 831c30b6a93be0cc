"""The user behind a request, typed for the services that record who acted."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.models import User


def acting_user(request: HttpRequest) -> User:
    """The signed-in user who sends this request, as the ``User`` a service records as its actor.

    Views behind a login (the admin) only ever see a signed-in user; an anonymous request that
    gets here anyway is refused rather than recorded as nobody.
    """
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied
    return user
