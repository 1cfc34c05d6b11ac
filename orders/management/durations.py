from datetime import timedelta

UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text):
    """A duration such as 90m, 72h, 30d or 2w; raises ValueError for anything else."""
    text = (text or "").strip().lower()
    if len(text) < 2 or text[-1] not in UNITS or not text[:-1].isdigit():
        raise ValueError(text)
    return timedelta(**{UNITS[text[-1]]: int(text[:-1])})
