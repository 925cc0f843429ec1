"""Demo data: a French home-goods retailer, generated from a seed (``filrouge demo``)."""

from filrouge.demo.loader import load_demo

__all__ = ["load_demo"]
