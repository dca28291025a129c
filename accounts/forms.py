"""Forms of the accounts pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, Length

from accounts.models import EMAIL_MAX
from core.forms import one_line
from core.vocabulary import choices


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"),
                       validators=[DataRequired(), Length(max=EMAIL_MAX), one_line])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Sign in"))


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=choices({"fi": "suomi", "en": "English"}))
    submit = SubmitField(_l("Change language"))


class ActionForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change something."""

    submit = SubmitField()
