"""On PostgreSQL the import writes contact methods in a thread while it reads the next rows
(crm.bulk.writing_in_background): an error of that COPY still stops the import and leaves nothing
behind, whether it is raised at the next chunk's query or when the import ends."""

import pytest
from django.db import DataError

from customers import importing, services
from tests.conftest import POSTGRESQL_ONLY
from tests.customers.test_import import database_state, import_rows

pytestmark = [pytest.mark.django_db, POSTGRESQL_ONLY]

ROWS = [
    ["name", "mobile", "email"],
    ["Acme", "13800138000", "a@acme.cn"],
    ["Beta", "13900139000", "b@beta.cn"],
]


@pytest.mark.parametrize("chunk_size", [importing.CHUNK_SIZE, 1])
def test_a_contact_method_the_database_refuses_in_the_thread_fails_the_whole_import(
    sales1, monkeypatch, chunk_size
):
    before = database_state()
    checked_rows = services._checked_rows

    def too_long_values(*args, **kwargs):  # a validation gap: varchar(300) refuses the value
        new = checked_rows(*args, **kwargs)
        assert new is not None
        for method in new.methods:
            method["value"] = "x" * 301
        return new

    monkeypatch.setattr(services, "_checked_rows", too_long_values)
    monkeypatch.setattr(importing, "CHUNK_SIZE", chunk_size)
    with pytest.raises(DataError):
        import_rows(sales1, ROWS, commit=True)
    assert database_state() == before


def test_the_import_writes_in_the_thread_what_it_writes_at_once(sales1):
    report = import_rows(sales1, ROWS, commit=True)
    assert (report.created, report.rejected) == (2, 0)
    customers = services.Customer.objects.order_by("name")
    assert [sorted(c.contact_methods.values_list("type", "value")) for c in customers] == [
        [("email", "a@acme.cn"), ("mobile", "+8613800138000")],
        [("email", "b@beta.cn"), ("mobile", "+8613900139000")],
    ]
