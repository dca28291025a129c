"""One unit of work per request: it commits once, here, when its answer is below 400.

Views, admin pages, API handlers and services only add and flush; the request
ends in `finish_request`, an ``after_request`` hook, which commits what the
request wrote when the answer's status is below 400 and rolls it back
otherwise, as Indico's request handler and microblog do. The hook runs before
the answer leaves, so a commit that fails still becomes an error answer (made
by ``core.http.error_answer``, the one error function, which itself rolls
back), never a 200 over a lost write; and a streamed answer's body starts only
after its transaction is committed.

Some writes must survive an answer of 400 or more: a failed sign-in counted
(and the account's lock audited), a wrong two-factor code counted, the secret
of a started two-factor set-up, and the audit event of a read that a refusing
page (a form answered 422) still shows. A view marks them with
`keep_regardless`, the one way to do so: the request's writes then commit
whatever the answer's status, so a view calls it only once what it must not
keep is discarded (`discard`). An exception still discards everything:
``error_answer`` rolls back what a failing request wrote.

Command-line commands, the scheduler's jobs and the reminder dispatcher are
units of work of their own and commit themselves.
"""

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from extensions import db

# Set by `keep_regardless` for the rest of the request: in the request's own
# environ, as ``g`` can outlive a request (an app context pushed around several).
_KEEP_FLAG = "perhetyo.keep_regardless"
CONFLICT_MESSAGE = _l("Someone else changed the same records at the same time. "
                      "Nothing was saved; try again.")


def keep_regardless() -> None:
    """Commit this request's writes even when its answer is 400 or more.

    For writes that record a refusal itself (a failed sign-in counted, a lock
    audited, a wrong two-factor code counted), and for the audit event of what
    a refusing page still shows: the refusal is the answer, and it must not
    erase its own trace. Whatever the refused change wrote is discarded first.
    """
    if has_request_context():
        request.environ[_KEEP_FLAG] = True


def discard() -> None:
    """Roll back what the request has written so far, so that an answer that
    says why a change was refused can still query (a failed flush leaves the
    session unusable until then). Never raises."""
    try:
        db.session.rollback()
    except Exception:
        current_app.logger.exception("Rolling back the request's writes failed")
        try:
            db.session.close()
        except Exception:
            current_app.logger.exception("Closing the session after an error failed")


def finish_request(response):
    """Commit the request's writes when its answer is below 400 (or the writes
    are marked to be kept), else roll them back; a failing commit answers as an
    error instead."""
    if response.status_code < 400 or request.environ.get(_KEEP_FLAG, False):
        try:
            db.session.commit()
        except Exception as error:
            return _failed_commit(error)
    else:
        discard()
    return response


def _failed_commit(error: Exception):
    """The error answer of a commit that failed: 409 when another transaction
    won a race to the same unique key, else a server error."""
    from core import http  # here: core.http imports this module

    if isinstance(error, IntegrityError):
        current_app.logger.warning("The request's commit failed: %s", error.orig)
        answer = http.error_answer(409, "conflict", CONFLICT_MESSAGE)
    else:
        current_app.logger.exception("The request's commit failed")
        answer = http.error_answer(500, "server_error", http.SERVER_ERROR_MESSAGE)
    return current_app.make_response(answer)


def init_app(app) -> None:
    """End every request of the app in one commit or one rollback."""
    app.after_request(finish_request)
