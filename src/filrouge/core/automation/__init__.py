"""Automation: rules that act when something happens, macros that act in one click.

``conditions.py`` (what a rule looks at) and ``actions.py`` (what it does) are registries
other parts extend; ``rules.py`` and ``macros.py`` write them; ``engine.py`` runs them;
``no_reply.py`` finds the conversations left unanswered.
"""

# Fields other parts provide, registered whenever automation is used.
from filrouge.core.automation import triage_fields  # noqa: F401
