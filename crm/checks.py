"""Start-up checks of the CRM's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string


@register()
def cvr_lookup_provider_check(app_configs: Any, **kwargs: Any) -> list[Error]:
    """CVR_LOOKUP_PROVIDER must name a class with a lookup method."""
    path = settings.CVR_LOOKUP_PROVIDER
    try:
        provider = import_string(path)
    except ImportError as error:
        return [Error(f"CVR_LOOKUP_PROVIDER={path!r} cannot be imported: {error}", id="crm.E001")]
    if not callable(getattr(provider, "lookup", None)):
        return [Error(f"CVR_LOOKUP_PROVIDER={path!r} has no lookup method.", id="crm.E002")]
    return []
