"""The ways a message leaves the system: e-mail over SMTP, SMS through an HTTP
gateway, and a log for the demo, all behind one interface.

A new channel is one class: subclass ``Channel`` with a ``kind`` (the value of
the REMINDER_CHANNEL_EMAIL or REMINDER_CHANNEL_SMS setting that picks it),
what it ``carries``, ``from_config`` and ``send``. Defining it registers it.
"""

import json
import logging
import re
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from reminders.messages import one_line

logger = logging.getLogger("reminders")

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Outgoing:
    """One message for one address; ``key`` is the outbox row's idempotency key."""

    key: str
    to: str
    subject: str
    body: str


class ChannelError(Exception):
    """A message that did not go. ``permanent`` ones are not tried again
    (an address the server refuses); others are (a server that is down)."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class Channel:
    """Sends messages of one kind; may keep a connection open between them."""

    kind = ""
    carries: frozenset = frozenset()
    registry: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Channel.registry[cls.kind] = cls

    @classmethod
    def from_config(cls, config) -> "Channel":
        raise NotImplementedError

    def send(self, message: Outgoing) -> str | None:
        """Send one message; return the provider's id for it, if it gives one.

        Raises ``ChannelError`` when the message did not go.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Let go of any connection; the next send opens a new one."""


class LogChannel(Channel):
    """Writes messages to the application log: the demo's default."""

    kind = "log"
    carries = frozenset({"email", "sms"})

    @classmethod
    def from_config(cls, config) -> "LogChannel":
        return cls()

    def send(self, message: Outgoing) -> str | None:
        logger.info("Reminder %s to %s: %s %s", message.key, message.to, message.subject,
                    message.body)
        return None


class SmtpChannel(Channel):
    """E-mail through an SMTP server, one connection kept for a batch."""

    kind = "smtp"
    carries = frozenset({"email"})

    def __init__(self, *, host, port, starttls=False, username=None, password=None,
                 sender, timeout=TIMEOUT_SECONDS):
        self.host, self.port, self.starttls = host, int(port), bool(starttls)
        self.username, self.password = username, password
        self.sender, self.timeout = sender, timeout
        self._smtp = None

    @classmethod
    def from_config(cls, config) -> "SmtpChannel":
        return cls(host=config["SMTP_HOST"], port=config["SMTP_PORT"],
                   starttls=config["SMTP_STARTTLS"], username=config["SMTP_USERNAME"],
                   password=config["SMTP_PASSWORD"], sender=config["MAIL_FROM"])

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def send(self, message: Outgoing) -> str | None:
        # The same message tried again has the same id, so a mail system can tell.
        message_id = f"<{re.sub(r'[^A-Za-z0-9.-]', '.', message.key)}@perhetyo.reminders>"
        try:
            email = self.email(message, message_id)
        except (ValueError, TypeError) as error:
            # The email package refuses what would be an injected header; the same
            # message would be refused again, so it is not tried again.
            raise ChannelError(f"message refused: {_text(error)}", permanent=True) from None
        try:
            refused = self._connection().send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            self.close()
            raise ChannelError(f"recipient refused: {_first(error.recipients)}",
                               permanent=True) from None
        except smtplib.SMTPResponseException as error:
            self.close()
            raise ChannelError(f"SMTP {error.smtp_code}: {_text(error.smtp_error)}",
                               permanent=500 <= error.smtp_code < 600) from None
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise ChannelError(f"SMTP: {error.__class__.__name__}: {error}") from None
        if refused:
            raise ChannelError(f"recipient refused: {_first(refused)}", permanent=True)
        return message_id

    def email(self, message: Outgoing, message_id: str) -> EmailMessage:
        """The e-mail of a message; headers are folded to one line each, so a line
        break in a stored name or address cannot add a header."""
        email = EmailMessage()
        email["From"] = one_line(self.sender)
        email["To"] = one_line(message.to)
        email["Subject"] = one_line(message.subject)
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = message_id
        email["X-Reminder-Key"] = one_line(message.key)
        email.set_content(message.body)
        return email

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


class HttpSmsChannel(Channel):
    """SMS through a gateway: a JSON POST with an API key; its message id is kept.

    The body is ``{"to", "message", "reference"}``; the reference (the
    idempotency key) lets the gateway drop a message it already took. The
    answer's ``id`` or ``message_id`` is the gateway's id of the message.
    """

    kind = "http"
    carries = frozenset({"sms"})

    def __init__(self, *, url, api_key, timeout=TIMEOUT_SECONDS):
        if not url:
            raise ValueError("SMS_GATEWAY_URL is not set")
        self.url, self.api_key, self.timeout = url, api_key, timeout

    @classmethod
    def from_config(cls, config) -> "HttpSmsChannel":
        return cls(url=config["SMS_GATEWAY_URL"], api_key=config["SMS_GATEWAY_API_KEY"])

    def send(self, message: Outgoing) -> str | None:
        body = json.dumps({"to": one_line(message.to), "message": one_line(message.body),
                           "reference": message.key}).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Accept": "application/json",
            "Authorization": f"Bearer {self.api_key or ''}",
            "Idempotency-Key": message.key})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = response.read(65536)
        except urllib.error.HTTPError as error:
            detail = _text(error.read(300))
            # 4xx but 408 and 429: the gateway will not take this message as it is.
            permanent = 400 <= error.code < 500 and error.code not in (408, 429)
            raise ChannelError(f"gateway answered {error.code}: {detail}",
                               permanent=permanent) from None
        except (OSError, ValueError) as error:
            raise ChannelError(f"gateway: {error.__class__.__name__}: {error}") from None
        try:
            data = json.loads(answer or b"{}")
        except ValueError:
            data = {}
        found = data.get("id") or data.get("message_id") if isinstance(data, dict) else None
        return str(found)[:200] if found is not None else None


def _first(recipients) -> str:
    for address, (code, text) in dict(recipients).items():
        return f"{address} ({code} {_text(text)})"
    return ""


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())[:200]


def channel_for(kind: str, carries: str, config) -> Channel:
    """The channel a setting names, checked to carry this kind of message."""
    cls = Channel.registry.get(kind)
    if cls is None:
        raise ValueError(f"unknown reminder channel {kind!r}; expected one of "
                         f"{', '.join(sorted(Channel.registry))}")
    if carries not in cls.carries:
        raise ValueError(f"the {kind!r} channel does not carry {carries}")
    return cls.from_config(config)


def channels_from_config(config) -> dict[str, Channel]:
    """The channel for e-mail and the one for SMS, from the settings."""
    return {"email": channel_for(config["REMINDER_CHANNEL_EMAIL"], "email", config),
            "sms": channel_for(config["REMINDER_CHANNEL_SMS"], "sms", config)}
