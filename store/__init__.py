"""The store: the one SQLAlchemy Base, engines and sessions, migrations. Domains own their tables."""
