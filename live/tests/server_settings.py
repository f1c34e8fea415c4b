"""Settings for the ASGI servers that the cross-process and browser tests start: the test
settings, with static files served from the apps' folders (there is no collectstatic)."""

from mini_crm.settings_test import *  # noqa: F403

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
