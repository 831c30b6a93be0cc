from celery import shared_task
from django.utils import timezone

from portal.models import Heartbeat


@shared_task(acks_late=True, time_limit=30, soft_time_limit=20)
def heartbeat(name: str = "beat") -> None:
    """Record that a worker ran a task: /healthz and the worker test read it."""
    Heartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})
