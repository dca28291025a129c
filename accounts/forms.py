"""Forms of the accounts pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from accounts.models import EMAIL_MAX
from core.forms import one_line
from core.vocabulary import LOCALE_NAMES, choices


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"),
                       validators=[DataRequired(), Length(max=EMAIL_MAX), one_line])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Sign in"))


class CodeForm(FlaskForm):
    """A six-digit code from the authenticator app, or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40), one_line])
    submit = SubmitField(_l("Continue"))


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=choices(LOCALE_NAMES))
    submit = SubmitField(_l("Change language"))


class ActionForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change something."""

    submit = SubmitField()
