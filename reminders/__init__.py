"""Reminders to families: planning, the outbox, channels and the dispatcher."""
