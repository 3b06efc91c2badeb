"""A fake engine REST channel for the gateway tests (the provider fakes live in `bot.fakes`)."""
