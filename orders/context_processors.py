from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from orders.access import approvable_orders, approvals_for
from orders.models import ApprovalRequest


def approvals(request: HttpRequest) -> dict[str, Any]:
    """For who may approve orders: the number of requests waiting, for the header (counted only when
    a page shows it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or approvable_orders(user) is None:
        return {}
    waiting: Callable[[], int] = approvals_for(user).filter(status=ApprovalRequest.Status.PENDING).count
    return {"may_approve_orders": True, "approvals_waiting": waiting}
