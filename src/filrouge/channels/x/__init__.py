"""X (Twitter) channel: mentions and DMs by the Account Activity API, replies by the X API v2."""
