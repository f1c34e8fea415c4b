# Django's English formats, 24-hour as in the rest of the pages:
# "Dec 1, 2026", "Dec 1, 2026 14:05", "14:05".
DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y H:i"
TIME_FORMAT = "H:i"
