"""Webhooks: where providers and relays hand messages over (``/hooks/...``)."""
