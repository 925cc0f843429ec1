"""Instagram channel: direct messages and comments on the account's media by webhook, DM
replies by the Messenger Platform, public replies and moderation by the Graph API."""
