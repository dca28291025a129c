"""Form helpers: a service's domain error shown on the form that caused it."""

from core.errors import DomainError


def attempt(form, action, *args, **kwargs):
    """Run a service call for a submitted form.

    Returns the call's result, or None after putting the error's field
    messages on the matching fields (and the rest on the form as a whole).
    """
    try:
        return action(*args, **kwargs)
    except DomainError as error:
        unplaced = []
        for name, message in error.fields.items():
            field = getattr(form, name, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, str(message)]
            else:
                unplaced.append(str(message))
        form.form_errors.extend(unplaced or [str(error.message)])
        return None
