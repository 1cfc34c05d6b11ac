"""Searches whose work stays bounded: each role finds exactly the matches it may see while they are
fewer than settings.SEARCH_MATCH_LIMIT; past it, the first ones it may see and a total of "N+"; and
the queries a search costs do not grow with the matches."""

import pytest
from django.urls import reverse

from crm.access import can_see
from customers.models import ContactPerson, Customer
from opportunities.models import Opportunity
from tests.factories import ContactMethodFactory, CustomerFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

LIST = reverse("customers:index")
SEARCH = reverse("search")
ROLES = ["manager", "lead_e", "a2"]


def add_matches(org, count, fragment="Dav"):
    """`count` customers of each user that match by name, by e-mail or by contact person, a deal on
    each (titled or not after the fragment), and as many customers and deals that do not match."""
    for owner in ("a1", "a2", "b1", "manager"):
        user = org.users[owner]
        for index in range(count):
            by_name = CustomerFactory(owner=user, name=f"{fragment}son {owner} {index}")
            by_email = CustomerFactory(owner=user, name=f"Email Co {owner} {index}")
            ContactMethodFactory(
                customer=by_email, type="email", value=f"{fragment.lower()}{owner}{index}@x.cn"
            )
            by_person = CustomerFactory(owner=user, name=f"Person Co {owner} {index}")
            ContactPerson.objects.create(customer=by_person, name=f"{fragment}id {owner} {index}")
            CustomerFactory(owner=user, name=f"Nobody {owner} {index}")
            OpportunityFactory(customer=by_name, owner=org.users["a2"] if index % 2 else user)
            OpportunityFactory(customer=by_email, title=f"{fragment} pumps {owner} {index}")


def customers_matching(user, fragment):
    """The customers `user` sees that match `fragment`, computed in Python from every row."""
    text = fragment.lower()
    found = set()
    for customer in Customer.objects.prefetch_related("contact_methods", "contact_persons"):
        values = [customer.name.lower()]
        values += [method.value for method in customer.contact_methods.all()]
        values += [person.name.lower() for person in customer.contact_persons.all()]
        if can_see(user, customer) and any(text in value for value in values):
            found.add(customer.pk)
    return found


def deals_matching(user, fragment):
    text = fragment.lower()
    return {
        deal.pk
        for deal in Opportunity.objects.select_related("customer")
        if can_see(user, deal) and (text in deal.title.lower() or text in deal.customer.name.lower())
    }


@pytest.mark.parametrize("who", ROLES)
def test_below_the_limit_each_role_finds_exactly_what_it_sees(client, org, who):
    user = org.users[who]
    add_matches(org, 1)  # 12 matches: the header search shows them all
    client.force_login(user)
    expected = customers_matching(user, "dav")
    assert expected and (expected == customers_matching(None, "dav")) == (who == "manager")

    page = client.get(LIST, {"q": "dav"}).context["page"]
    assert {customer.pk for customer in page.items} == expected
    assert (page.total, page.total_is_capped) == (len(expected), False)

    found = client.get(SEARCH, {"q": "dav"}).context
    assert {customer.pk for customer in found["customers"]} == expected
    assert {deal.pk for deal in found["opportunities"]} == deals_matching(user, "dav")


@pytest.mark.parametrize("who", ROLES)
def test_past_the_limit_a_search_shows_the_first_matches_it_sees_and_says_n_plus(client, org, settings, who):
    settings.SEARCH_MATCH_LIMIT = 3
    user = org.users[who]
    add_matches(org, 3)
    client.force_login(user)
    expected = customers_matching(user, "dav")
    assert len(expected) > settings.SEARCH_MATCH_LIMIT + 1

    page = client.get(LIST, {"q": "dav"}).context["page"]
    shown = {customer.pk for customer in page.items}
    assert len(shown) == settings.SEARCH_MATCH_LIMIT + 1 and shown <= expected
    assert (page.total, page.total_is_capped) == (3, True)

    found = client.get(SEARCH, {"q": "dav"}).context
    assert {customer.pk for customer in found["customers"]} <= expected
    assert len(found["customers"]) == settings.SEARCH_MATCH_LIMIT + 1
    deals = {deal.pk for deal in found["opportunities"]}
    assert len(deals) == settings.SEARCH_MATCH_LIMIT + 1 and deals <= deals_matching(user, "dav")


def test_the_search_reads_its_first_matches_among_the_rows_the_other_filters_keep(client, org, settings):
    settings.SEARCH_MATCH_LIMIT = 2
    owner = org.users["a1"]
    for index in range(4):  # found first by every index: they are older
        CustomerFactory(owner=owner, name=f"David active {index}", lifecycle_stage="active")
    leads = {
        CustomerFactory(owner=owner, name=f"David lead {index}", lifecycle_stage="lead").pk
        for index in range(3)
    }
    client.force_login(owner)
    page = client.get(LIST, {"q": "david", "lifecycle_stage": "lead"}).context["page"]
    assert {customer.pk for customer in page.items} == leads
    assert (page.total, page.total_is_capped) == (2, True)


@pytest.mark.parametrize("who", ROLES)
def test_a_search_costs_the_same_queries_with_few_and_with_many_matches(
    client, org, settings, count_queries, who
):
    settings.SEARCH_MATCH_LIMIT = 10
    client.force_login(org.users[who])
    urls = [f"{LIST}?q=dav", f"{SEARCH}?q=dav", f"{LIST}?q=dav&lifecycle_stage=active&sort=-updated"]
    add_matches(org, 1)
    few = [count_queries(client, url) for url in urls]
    add_matches(org, 6)
    many = [count_queries(client, url) for url in urls]
    assert many == few
    assert all(queries <= 12 for queries in many)
