"""E-mail goes out from the background worker, so a slow or failing mail server never holds up
or breaks the page that caused the message."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task

from .models import Notification


@task
def email_notification(notification_id: int) -> None:
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    link = f"\n\n{settings.SITE_URL}{notification.url}" if notification.url else ""
    send_mail(
        subject=f"OpenNRM: {notification.subject}",
        message=f"{notification.body}{link}\n\nSign in to OpenNRM to see more.",
        from_email=None,
        recipient_list=[notification.recipient.email],
    )
