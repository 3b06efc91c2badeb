"""All data access. Actions and the admin CLI call these functions; nothing else writes SQL."""
