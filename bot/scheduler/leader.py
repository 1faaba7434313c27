"""Exactly one scheduler among many processes: a PostgreSQL advisory lock held on a
dedicated connection for as long as the process leads."""

from __future__ import annotations

# pg_try_advisory_lock(bigint) key: "papi" "schd" in ASCII, fixed so every process agrees.
SCHEDULER_LOCK_KEY = 0x7061_7069_7363_6864 & 0x7FFF_FFFF_FFFF_FFFF
