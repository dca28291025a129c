"""Figures for coordinators, and the dashboard that answers "what is next"."""
