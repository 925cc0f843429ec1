"""Facebook Messenger channel: Messenger Platform webhooks in, the Send API out."""
