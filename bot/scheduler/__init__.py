"""What is due and when: reminders, escalations and digests, turned into outbox rows.

The database is the truth: every minute ``sweep`` computes what is due from the assignments
and writes a ``ReminderLog`` key with each outbox row, so a restart neither repeats nor loses
a reminder. ``jobs.build_scheduler`` wires the sweep and the digest cron into APScheduler.
"""
