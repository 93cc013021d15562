"""State backends: SQLite (embedded default) and Redis (shared by several machines)."""
