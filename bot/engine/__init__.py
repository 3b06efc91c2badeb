"""Talking to the engine (Rasa 3.6 in its own python3.10 environment) over HTTP only."""
