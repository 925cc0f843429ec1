"""WhatsApp Cloud API channel: Meta webhooks in (messages, statuses), replies by the Graph API."""
