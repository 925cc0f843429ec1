"""The live-chat widget: its script, its demo page, and the visitor's socket session."""
