"""Scheduled follow-ups: planning flow messages into the durable outbox."""
