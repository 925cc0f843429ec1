"""Every write goes through an action here: validate, change, record events, publish after commit."""
