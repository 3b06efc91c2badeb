"""Hamroh: a multilingual support assistant for returnees and their families."""
