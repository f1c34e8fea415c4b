import os

from django.core.checks import Warning, register


@register()
def replaced_settings(app_configs, **kwargs):
    """An environment written for an older release still sets API_READ_REQUIRES_LOGIN, which
    nothing reads any more: say so at start rather than let its owner believe it still acts."""
    if "API_READ_REQUIRES_LOGIN" not in os.environ:
        return []
    return [
        Warning(
            "API_READ_REQUIRES_LOGIN is no longer read: API reads now always need a user with "
            "the view permission, unless API_PUBLIC_READ=1 opts into anonymous reads.",
            hint="Remove API_READ_REQUIRES_LOGIN from the environment.",
            id="api.W001",
        )
    ]
