"""Peer groups, their session series, enrollment, waiting lists and attendance."""
