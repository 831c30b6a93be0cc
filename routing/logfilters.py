"""A logging filter that keeps private links out of every log line.

The company's status page (``/vejledning/<token>/``), its satisfaction survey
(``/tilfredshed/<token>/``), the status API (``/api/guidance-requests/<token>/``) and the
saved-search links (``/gemte-soegninger/bekraeft|afmeld/<token>/``) carry a secret in the path;
Django's request and server logs print paths. The filter replaces the secret with ``<token>`` in
the message, its arguments and the traceback. It is pure (no Django import): logging is
configured before the apps are loaded.
"""

from __future__ import annotations

import logging
import re

_PRIVATE_PATH = re.compile(
    r"(/vejledning/)(?!vaeksthus/|cvr/)[^/\s?#\"'<>]+"
    r"|(/gemte-soegninger/(?:bekraeft|afmeld)/)[^/\s?#\"'<>]+"
    r"|(/tilfredshed/)[^/\s?#\"'<>]+"
    r"|(/api/guidance-requests/)[^/\s?#\"'<>]+"
)


def mask_private_paths(text: str) -> str:
    """``text`` with the secret of every private link replaced by ``<token>``."""
    return _PRIVATE_PATH.sub(lambda m: next(g for g in m.groups() if g) + "<token>", text)


class PrivatePathFilter(logging.Filter):
    """Masks private links in a record; never drops one.

    The message is formatted first and masked as a whole (a path may be in the format string or
    in an argument, and masking the format string alone could break its placeholders).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        masked = mask_private_paths(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_private_paths(record.exc_text)
        return True
