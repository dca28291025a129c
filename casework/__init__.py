"""A family's whole case, across the domain packages.

Its page, the pages of its visits and of the group sessions it takes part in
(each with the event's reminders), closing its work, the right-of-access
export, retention and anonymisation: what reads or changes several packages'
data at once.
"""
