# Django's Russian formats, with the dates of the Russian standard's medium form, as a browser's
# Intl writes them: "1 дек. 2026 г.", "1 дек. 2026 г., 14:05". Django's "N" gives the abbreviated
# month; its Russian forms ("дек.", "мая") are in our own catalogue (mini_crm/locale/).
DATE_FORMAT = "j N Y г."
DATETIME_FORMAT = "j N Y г., G:i"
