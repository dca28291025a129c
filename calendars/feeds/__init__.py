"""iCalendar feeds: what a calendar service fetches for a worker, a group or a family.

A fetch of ``/calendars/feeds/<secret>.ics`` goes down this pipeline::

    request
      -> token lookup   tokens.find_feed: the subscription by its secret's hash,
                        with its stamps and whether it is live (serving.lookup
                        counts guessed secrets per address)
      -> cache          serving.FeedServer, before Flask: the cached feed is sent
                        while its stamps, the day and the retention hold
      -> window         window.FeedWindow, within_limit, served_privacy: which
                        events, how many, at which privacy level
      -> events         calendars.events.events_of: the owner's visits and sessions
      -> ical bytes     ical.build: VTIMEZONE and each event serialised once
      -> cache          content.make_cached_feed: ETag and Last-Modified, kept in
                        serving.feed_cache by views.feed
      -> answer         serving.reply: 200 (gzip when taken) or 304

    writes (any flush)
      -> stamps         stamps: a before_flush hook raises the stamps of every
                        owner whose feed the flush changes, and the SEQUENCE of
                        every event whose text it changes; a raised stamp makes
                        the cached feeds of that owner stale

The modules, by job: ``tokens`` (subscriptions: making, rotating, revoking,
reading one by its secret), ``window``, ``ical``, ``content`` (a feed's body
from the database), ``serving`` (the WSGI server and the cache), ``stamps``,
``views`` (the feed route and the subscription pages).
"""
