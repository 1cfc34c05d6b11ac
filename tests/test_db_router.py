"""Reports and exports read from the replica, configured in the tests as a mirror of the test
database (TEST: MIRROR); nothing else does, and no read that may lead to a write."""

import csv
import io

import pytest
from django.core.signals import request_started
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.db_router import read_database, replica_reads
from customers.models import Customer, Tag
from tests.factories import CustomerFactory
from tests.orders.builders import order_in

# The replica is another connection to the test database: it sees committed rows only.
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def replica(settings):
    """Replica reads on, and a request starting: what was written before it does not count."""
    settings.REPLICA_READS = True
    request_started.send(sender=None)


def queries_on(alias):
    return CaptureQueriesContext(connections[alias])


def test_reads_go_to_the_replica_only_inside_replica_reads(replica):
    assert read_database() == "default"
    with replica_reads():
        assert read_database() == "replica"
    assert read_database() == "default"


def test_a_read_inside_a_transaction_or_after_a_write_stays_on_the_primary(replica):
    with replica_reads():
        with transaction.atomic():
            assert read_database() == "default"
        assert read_database() == "replica"
        Tag.objects.create(name="written")
        assert read_database() == "default"


def test_without_a_replica_to_read_every_read_stays_on_the_primary(settings):
    settings.REPLICA_READS = False
    with replica_reads():
        assert read_database() == "default"


def test_a_report_page_reads_the_replica(replica, manager_client, sales1):
    order_in("finished", sales1, CustomerFactory(owner=sales1))
    with queries_on("replica") as on_replica, queries_on("default") as on_primary:
        response = manager_client.get(reverse("reports:sales"))
    assert response.status_code == 200
    assert any("orders_order" in query["sql"] for query in on_replica)
    assert not any("orders_order" in query["sql"] for query in on_primary)
    assert any("django_session" in query["sql"] for query in on_primary)  # the request itself


def test_an_export_reads_its_rows_from_the_replica_as_it_streams(replica, manager_client, manager, settings):
    settings.EXPORT_BUFFER_BYTES = 100
    CustomerFactory.create_batch(20, owner=manager)
    with queries_on("replica") as on_replica, queries_on("default") as on_primary:
        response = manager_client.get(reverse("customers:export"), {"format": "csv"})
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 21
    assert any('FROM "customers_customer"' in query["sql"] for query in on_replica)
    assert not any('FROM "customers_customer"' in query["sql"] for query in on_primary)


def test_pages_that_act_on_data_read_the_primary(replica, sales_client, sales1):
    customer = CustomerFactory(owner=sales1)
    with queries_on("replica") as on_replica:
        assert sales_client.get(customer.get_absolute_url()).status_code == 200
        assert sales_client.get(reverse("customers:index")).status_code == 200
    assert len(on_replica) == 0
    assert Customer.objects.count() == 1
