"""Matching families to peer groups: scores, explanations and bulk proposals."""
