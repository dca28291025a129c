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

    def __init_subclass__(cls, *, status=None, code=None, **kwargs):
        """A kind of refusal declares its HTTP status and code in its class line."""
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status
        if code is not None:
            cls.code = code

    def __init__(self, message, *, code=None, fields=None, details=None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.fields = dict(fields or {})
        self.details = list(details or [])


class ValidationFailed(DomainError, status=422, code="validation_failed"):
    """Input that does not have the right shape (type, length, known code)."""


class BadRequest(DomainError, status=400, code="bad_request"):
    """A request that cannot be read at all, such as a body that is not JSON."""


class RuleViolation(DomainError, status=422, code="rule_violation"):
    """Well-formed input that a rule of the work refuses."""


class NotFound(DomainError, status=404, code="not_found"):
    """The thing does not exist, or the caller may not know that it does."""


class Forbidden(DomainError, status=403, code="forbidden"):
    """The caller is known but may not do this."""


class Conflict(DomainError, status=409, code="conflict"):
    """The request clashes with the current state (a duplicate, a full group)."""
