"""Telegram bot channel: updates by webhook, replies by the Bot API."""
