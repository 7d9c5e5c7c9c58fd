"""Durable records in SQL (SQLite by default, PostgreSQL via DATABASE_URL)."""
