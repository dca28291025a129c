"""A family's whole case, across the domain packages.

Its page, closing its work, the right-of-access export, retention and
anonymisation: what reads or changes several packages' data at once.
"""
