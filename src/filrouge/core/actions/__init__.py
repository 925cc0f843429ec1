"""Every write goes through an action: check, change, record events, publish after commit."""
