"""Home visits, worker calendars, conflicts and free slots, and iCal feeds."""
