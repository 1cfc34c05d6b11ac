"""Lists: the pages' filters and search, sorts, keyset pages of a capped size, a fixed query budget."""

from datetime import date, timedelta

import pytest

from crm.api.pagination import MAX_PAGE_SIZE
from opportunities import services as opportunity_services
from tests.factories import (
    CommunicationFactory,
    ContactMethodFactory,
    CustomerFactory,
    FollowUpFactory,
    NeedFactory,
    ProductFactory,
    UserFactory,
)
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db


def add_rows(user, count):
    """`count` customers of `user`, each with a contact method, a need, an order, a deal, a
    conversation and a follow-up; as many products and users."""
    for _ in range(count):
        product = ProductFactory()
        UserFactory()
        customer = CustomerFactory(owner=user)
        ContactMethodFactory(customer=customer)
        NeedFactory(customer=customer)
        make_order(user, customer)
        opportunity_services.create_opportunity(
            actor=user,
            customer=customer,
            title="Deal",
            expected_close_date=date.today() + timedelta(days=9),
            lines=[{"product": product, "quantity": 1}],
        )
        CommunicationFactory(customer=customer)
        FollowUpFactory(customer=customer)


LISTS = [
    "/api/v1/customers/",
    "/api/v1/orders/",
    "/api/v1/opportunities/",
    "/api/v1/communications/",
    "/api/v1/followups/",
    "/api/v1/products/",
    "/api/v1/stages/",
    "/api/v1/users/",
]
BUDGET = 12


@pytest.mark.parametrize("url", LISTS)
def test_a_list_costs_the_same_queries_for_5_and_50_rows(api, sales1, count_queries, url):
    add_rows(sales1, 5)
    few = count_queries(api, url + "?page_size=50")
    add_rows(sales1, 45)
    many = count_queries(api, url + "?page_size=50")
    assert few == many <= BUDGET
    if url != "/api/v1/stages/":
        assert many.response.json()["count"] >= 50


def test_filters_search_and_sort_are_the_pages(api, sales1):
    wanted = CustomerFactory(owner=sales1, name="Zeta Fluid", industry="energy")
    ContactMethodFactory(customer=wanted, type="email", value="buyer@zeta.example")
    CustomerFactory(owner=sales1, name="Alpha Steel", industry="retail")
    names = lambda response: [row["name"] for row in response.json()["results"]]  # noqa: E731
    assert names(api.get("/api/v1/customers/?industry=energy")) == ["Zeta Fluid"]
    assert names(api.get("/api/v1/customers/?search=zeta.example")) == ["Zeta Fluid"]
    assert names(api.get("/api/v1/customers/?sort=-name")) == ["Zeta Fluid", "Alpha Steel"]
    assert names(api.get("/api/v1/customers/?sort=nonsense")) == ["Alpha Steel", "Zeta Fluid"]
    refused = api.get("/api/v1/customers/?industry=mining")
    assert refused.status_code == 400 and "industry" in refused.json()["errors"]


def test_pages_follow_their_cursors_and_the_size_is_capped(api, sales1):
    for index in range(7):
        CustomerFactory(owner=sales1, name=f"Customer {index}")
    first = api.get("/api/v1/customers/?page_size=3").json()
    assert first["count"] == 7 and first["previous"] is None
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    seen = [row["name"] for page in (first, second, third) for row in page["results"]]
    assert seen == [f"Customer {index}" for index in range(7)]
    assert third["next"] is None
    back = api.get(third["previous"]).json()
    assert back["results"] == second["results"]
    for size in ("0", "-1", "abc", "1e9", str(10**30)):
        assert len(api.get(f"/api/v1/customers/?page_size={size}").json()["results"]) == 7, size
    garbage = api.get("/api/v1/customers/?page_size=3&cursor=n.WyJ4Il0").json()
    assert garbage["results"] == first["results"], "a cursor that cannot be read gives the first page"
    assert len(api.get(f"/api/v1/customers/?page_size={MAX_PAGE_SIZE + 1}").json()["results"]) == 7
