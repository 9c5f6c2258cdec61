"""E-mail: through SMTP when SMTP_URL is set, otherwise each message is written as a .eml file under
``instance/mail/`` so that a machine with no mail server still shows what would have been sent."""
import smtplib
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlparse

from flask import current_app

from core import clock


def build(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def deliver(message: EmailMessage) -> None:
    url = current_app.config["SMTP_URL"]
    if not url:
        folder = Path(current_app.config["MAIL_FOLDER"])
        folder.mkdir(parents=True, exist_ok=True)
        stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
        safe_to = "".join(c if c.isalnum() else "_" for c in message["To"])
        (folder / f"{stamp}-{safe_to}.eml").write_bytes(bytes(message))
        return
    parts = urlparse(url)
    smtp_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with smtp_class(parts.hostname, parts.port or (465 if parts.scheme == "smtps" else 587), timeout=30) as smtp:
        if parts.scheme == "smtp":
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)
