"""Who may open the analyst pages under /analyse/."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

View = Callable[..., HttpResponseBase]


def can_analyse(user: Any, *, editors: bool = False) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.is_analyst:
        return True
    return editors and bool(user.is_editor)


def analyst_required(*, editors: bool = False) -> Callable[[View], View]:
    """Analysts and superusers (and editors, when ``editors``); anyone else signed in gets 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can_analyse(request.user, editors=editors):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
