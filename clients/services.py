"""Business rules and writes that touch several rows. Views, the admin and the API call these."""

from django.conf import settings

from clients.validators import email_domain


def is_vip_email(email: str) -> bool:
    """True when the address is exactly at one of settings.VIP_EMAIL_DOMAINS (not a subdomain,
    not a lookalike such as notcompany.com)."""
    return email_domain(email) in {d.lower() for d in settings.VIP_EMAIL_DOMAINS}
