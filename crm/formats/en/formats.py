"""English dates as the CRM writes them: one date format and one date-time format everywhere,
unambiguous for readers on both sides of the Pacific (簡体中文 keeps Django's 2026年11月28日 14:09).
Input formats stay Django's."""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
