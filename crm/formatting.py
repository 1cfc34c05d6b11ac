"""One way to write numbers for people, the same in every language: 45,400.00.

Pages (the `money` filter of crm_format), messages and event sentences use it; exports keep raw
numbers (crm/exports.py).
"""

from decimal import Decimal


def money(value: object) -> str:
    """An amount with thousands separators and two decimals: 45,400.00 (-1,800.00); "" for none."""
    if value in (None, ""):
        return ""
    return f"{Decimal(str(value)):,.2f}"
