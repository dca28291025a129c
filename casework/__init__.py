"""A family's whole case, across the domain packages: its page, closing, the
right-of-access export, retention and anonymisation."""
