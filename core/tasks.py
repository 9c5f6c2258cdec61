"""Kernel tasks. Tasks take plain values or ids, never objects."""
from celery import shared_task

from core import mail


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_mail(to: str, subject: str, body: str) -> None:
    mail.deliver(mail.build(to, subject, body))
