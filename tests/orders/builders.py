"""Orders built the way users build them: through the services."""

import csv
import io
from decimal import Decimal

from orders import services


def make_order(user, customer, *, lines=None, **fields):
    """An order created through the service, with one 3 × 100.00 line unless told otherwise."""
    if lines is None:
        lines = [{"description": "Sensor", "quantity": 3, "unit_price": Decimal("100.00")}]
    return services.create_order(actor=user, customer=customer, lines=lines, **fields)


def advance(user, order, *statuses, manager=None):
    """Walks an order through the given statuses with the services (paying in full before finishing)."""
    for status in statuses:
        if status == "confirmed":
            order = services.confirm_order(actor=user, order=order)
        elif status == "processing":
            order = services.start_processing(
                actor=user, order=order, carrier="SF Express", tracking_number="SF1234567890"
            )
        elif status == "finished":
            if order.balance:
                services.record_payment(actor=user, order=order, amount=order.balance, method="bank_transfer")
                order.refresh_from_db()
            order = services.finish_order(actor=user, order=order)
        elif status == "closed":
            order = services.close_order(actor=user, order=order, reason="Customer cancelled")
    return order


PATHS = {
    "created": (),
    "confirmed": ("confirmed",),
    "processing": ("confirmed", "processing"),
    "finished": ("confirmed", "processing", "finished"),
    "closed": ("closed",),
}


def order_in(status, user, customer, **fields):
    return advance(user, make_order(user, customer, **fields), *PATHS[status])


def csv_bytes(rows):
    """A CSV file's bytes (UTF-8 with a BOM, as Excel writes it) holding `rows`."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")
