# Django's English formats, with dates short enough for a table: "Dec 1, 2026", "Dec 1, 2026 14:05".
DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y H:i"
