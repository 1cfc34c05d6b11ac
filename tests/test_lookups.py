"""`field__any=values` (crm/lookups.py) finds what `field__in=values` finds, with one array parameter
on PostgreSQL, and no query at all for no values."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_any_finds_what_in_finds_by_text_and_by_id():
    acme, beta, _other = (CustomerFactory(name=name) for name in ("Acme", "Beta", "Other"))
    for lookup, values in [("name", {"Acme", "Beta", "Nobody"}), ("pk", [acme.pk, beta.pk, None])]:
        found = Customer.objects.filter(**{f"{lookup}__any": values}).order_by("name")
        assert list(found) == list(Customer.objects.filter(**{f"{lookup}__in": values}).order_by("name"))
        assert list(found) == [acme, beta]


def test_any_sends_one_parameter_on_postgresql_and_nothing_for_no_values():
    with CaptureQueriesContext(connection) as queries:
        list(Customer.objects.filter(name__any=[f"name {number}" for number in range(1000)]))
        assert list(Customer.objects.filter(name__any=[])) == []
    assert len(queries) == 1
    if connection.vendor == "postgresql":
        assert "= ANY(" in queries[0]["sql"]
