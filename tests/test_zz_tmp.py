import pytest
from django.urls import reverse

from tests.orders.builders import order_in
from tests.test_page_budgets import lead_client, make_customers  # noqa

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("client_fixture", ["sales_client", "lead_client", "manager_client"])
def test_dump(request, client_fixture, sales1, count_queries):
    client = request.getfixturevalue(client_fixture)
    customer = make_customers(sales1, 1)[0]
    order_in("finished", sales1, customer)
    page = count_queries(client, reverse("dashboard"))
    print("\n".join(q[:300] for q in page.listing()))
