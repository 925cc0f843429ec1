"""Contacts logged by hand: phone calls, visits in store, letters."""
