import pytest

pytestmark = pytest.mark.django_db


def test_past_the_rate_a_token_gets_429_with_retry_after(settings, api_client, sales1, sales2):
    settings.API_RATE_LIMIT = "3/minute"
    first, other = api_client(sales1), api_client(sales2)
    assert [first.get("/api/v1/products/").status_code for _ in range(3)] == [200, 200, 200]
    refused = first.get("/api/v1/products/")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["detail"]
    # Each token has its own count, even another token of the same user.
    assert other.get("/api/v1/products/").status_code == 200
    assert api_client(sales1).get("/api/v1/products/").status_code == 200
