"""Peer groups, their session series, enrollment, waiting lists and attendance.

The rules live in one module per job:

- ``permissions``: who may manage a group, see its roster, record attendance
  and place families;
- ``series``: a group's session series and its single sessions;
- ``enrollment``: seats, the waiting list and the roster lock;
- ``eligibility``: the one rule of which family may take a seat, over plain facts;
- ``attendance``: who was at a session, and the rates that follow;
- ``services``: groups themselves, created, changed, opened, closed and found.
"""
