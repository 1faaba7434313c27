"""The leaf kernel every floor may use: clock, i18n, text folding, dates, phones.

It imports only the standard library and Babel (checked by import-linter in CI), so
``storage``, ``handlers`` and ``bot`` can all depend on it without a circle.
"""
