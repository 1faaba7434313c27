"""The truth: tables, engine and sessions, queries, migrations. Knows nothing of channels."""
