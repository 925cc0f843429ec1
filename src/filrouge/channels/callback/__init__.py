"""Click-to-call: customers ask to be called back, now or in a time slot of the opening hours.

``hours.py`` reads a channel's settings (opening hours, holidays, slots, capacity, retries);
``form.py`` signs the public form's timestamp; ``telephony.py`` places the call (Twilio Voice,
or manual: the agent dials); ``adapter.py`` logs what was said, like the phone channel.
"""
