"""Durable background work on Huey: deliveries now; SLA timers and surveys later.

The queue is a SQLite file beside the database when embedded, Redis at scale
(``FILROUGE_QUEUE_URL=redis://…``). A job's truth is in the database (a message stays
``queued`` until sent), so a lost job is found again by the sweeper.
"""
