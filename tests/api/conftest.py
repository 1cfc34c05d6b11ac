import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from crm.api.tokens import create_api_token


@pytest.fixture(autouse=True)
def fresh_rate_counts():
    """Each test starts with no requests counted against the rate limit."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    """`api_client(user)`: a client that sends a fresh API token of `user` with every request."""

    def make(user):
        client = APIClient()
        _stored, token = create_api_token(actor=user, user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make


@pytest.fixture
def api(api_client, sales1):
    return api_client(sales1)


@pytest.fixture
def manager_api(api_client, manager):
    return api_client(manager)


from tests.accounts.conftest import org  # noqa: E402, F401  (two teams with their leads, for the team rule)
