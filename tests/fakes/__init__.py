"""Local fakes that speak the HTTP APIs Hamroh uses (Telegram Bot API, Twilio, the engine's REST channel)."""
