"""The app's web server: the engine's action and reply endpoints (and, later, channel webhooks)."""
