"""Channel adapters: one package per provider, each behind the small interface in ``base``."""
