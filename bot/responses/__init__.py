"""The bot's replies in seven languages: one catalog, rendered for the engine on demand."""
