"""SMS and MMS through Twilio: messages and status callbacks by webhook, replies by the
Messaging REST API."""
