"""Caseworker-editable reminder and follow-up flows (`flows/*.yml`): format, validation, planning."""
