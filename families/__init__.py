"""Families, their members and plans, and the referral rules of the work."""
