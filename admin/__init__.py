"""The admin pages: users, places, blackout dates, the audit log and the policies."""
