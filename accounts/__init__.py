"""Users, roles, signing in and out, and personal API tokens."""
