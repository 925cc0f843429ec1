"""The domain core: models, actions, access checks and events. Never imports the web framework."""
