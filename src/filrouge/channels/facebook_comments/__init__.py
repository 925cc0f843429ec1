"""Facebook page comments: the page's ``feed`` webhook as public messages; public replies,
Messenger private replies and moderation (hide/unhide) by the Graph API."""
