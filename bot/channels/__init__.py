"""Channels: how replies look and how answers map back, per channel."""
