from django.urls import path
from rest_framework.routers import SimpleRouter

from orders.api.views import ApprovalViewSet, BalanceViewSet, OrderViewSet, ProductViewSet

router = SimpleRouter()
router.register("products", ProductViewSet, basename="product")
router.register("orders", OrderViewSet, basename="order")
router.register("approvals", ApprovalViewSet, basename="approval")
urlpatterns = [
    *router.urls,
    path("balances/", BalanceViewSet.as_view({"get": "list"}), name="balance-list"),
    path(
        "balances/summary/",
        BalanceViewSet.as_view({"get": "summary"}, pagination_class=None),
        name="balance-summary",
    ),
]
