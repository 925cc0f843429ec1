"""The email channel: parsing real-world mail into what the inbound pipeline needs."""
