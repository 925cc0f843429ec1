"""Routing: which team a new conversation goes to (skills), and which agent (strategy).

skills.py   what a conversation is (language, channel kind, topics) and the team that fits
capacity.py how many conversations an agent takes at once, per kind of channel
agents.py   who may take one now (available, under capacity), and the strategies
The writes are in core/actions/routing.py (new conversations), rerouting.py (an agent gone
offline, the queue picked up) and offers.py (contributors' expertise).
"""
