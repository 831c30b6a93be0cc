"""The bottom layer: helpers every app may use, which know nothing of any domain app.

Query-string parsing, masking of personal data in free text, rate limits per client, read-only
admin bases, Danish time and CVR numbers. Nothing here imports ``accounts``, ``offers``, ``crm``,
``routing``, ``evaluation``, ``governance`` or ``portal`` (``make lint`` checks it).
"""
