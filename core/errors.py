"""Domain errors: raised by services, turned into form errors or JSON in one place."""


class DomainError(Exception):
    """A refusal the user can understand and act on.

    ``code`` is stable (API clients and tests rely on it), ``message`` is the
    translated sentence shown to people, ``fields`` maps field names to their
    own messages, and ``details`` lists what the refusal is about (the clashes
    of a booking, say) as plain dicts.
    """

    status = 422
    code = "invalid"

    def __init__(self, message, *, code=None, fields=None, details=None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.fields = dict(fields or {})
        self.details = list(details or [])


class ValidationFailed(DomainError):
    """Input that does not have the right shape (type, length, known code)."""

    status = 422
    code = "validation_failed"


class BadRequest(DomainError):
    """A request that cannot be read at all, such as a body that is not JSON."""

    status = 400
    code = "bad_request"


class RuleViolation(DomainError):
    """Well-formed input that a rule of the work refuses."""

    status = 422
    code = "rule_violation"


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a full group)."""

    status = 409
    code = "conflict"
