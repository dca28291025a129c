"""The admin pages: users, municipalities, venues, blackout dates, the audit log
and the policies."""
