"""The HTTP layer: parse with Pydantic, call an action, serialise. The only web-framework user."""
