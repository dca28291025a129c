"""Shared foundations: base model, time, recurrence, roles, errors, audit."""
