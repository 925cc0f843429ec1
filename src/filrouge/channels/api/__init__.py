"""The generic API channel: any system that can POST JSON (a web shop, a custom bot, a CRM)."""
