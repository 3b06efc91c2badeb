"""Language processing shared by the app and the engine's custom components.

Modules here use only the standard library (and PyYAML), and stay compatible with
Python 3.10, because the engine (Rasa 3.6, own virtual environment) imports them too.
"""
