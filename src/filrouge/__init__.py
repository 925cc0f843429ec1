"""Filrouge: omnichannel customer service that never loses the thread."""

__version__ = "0.1.0"
