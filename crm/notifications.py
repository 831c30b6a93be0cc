"""The outbox's queueing entry point under its old address; the mechanism is ``crm.outbox``."""

from __future__ import annotations

from crm.outbox import notification_queue, render_message

__all__ = ["notification_queue", "render_message"]
