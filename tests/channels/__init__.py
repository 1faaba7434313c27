"""Channel contract tests: one runner, a table per channel."""
