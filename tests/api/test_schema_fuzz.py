"""schemathesis against the OpenAPI schema, in process (WSGI): every operation of every endpoint,
with generated valid and invalid input, must answer without a server error, with a status code, a
content type and a body the schema documents."""

from datetime import date, timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from crm.api.tokens import create_api_token
from crm.wsgi import application
from opportunities import services as opportunity_services
from tests.factories import (
    CommunicationFactory,
    ContactMethodFactory,
    CustomerFactory,
    FollowUpFactory,
    ProductFactory,
)
from tests.orders.builders import make_order

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@pytest.fixture
def in_the_test_transaction():
    """Requests through the WSGI application run in the test's transaction, as the test client's do:
    Django would close the connection around each request (it is not in autocommit mode)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def token(db, manager, settings, in_the_test_transaction):
    """A manager's token (every operation is open to them) and a few records for the ids to hit."""
    settings.API_RATE_LIMIT = "100000/minute"
    customer = CustomerFactory(owner=manager, pk=1)
    ContactMethodFactory(customer=customer, pk=1)
    product = ProductFactory(pk=1)
    make_order(manager, customer)
    opportunity_services.create_opportunity(
        actor=manager,
        customer=customer,
        title="Fuzzed",
        expected_close_date=date.today() + timedelta(days=10),
        lines=[{"product": product, "quantity": 1}],
    )
    CommunicationFactory(customer=customer, pk=1)
    FollowUpFactory(customer=customer, pk=1)
    return create_api_token(actor=manager, user=manager)[1]


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_conforms_and_never_fails(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
