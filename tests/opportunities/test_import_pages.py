"""The deal import pages: managers only; the dry run writes nothing; confirming imports."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from opportunities.models import Opportunity, OpportunityEvent
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

FILE = (
    "opportunity_id,account,deal,engage_date,deal_stage,close_date,close_value\n"
    "P1,Known Ltd,Won deal,2025-01-02,赢单,2025-02-01,5000\n"
    "P2,Known Ltd,Lost deal,2025-01-02,Lost,2025-03-01,\n"
    "P3,Unknown Ltd,Nobody's deal,2025-01-02,Open,,\n"
).encode()


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    return tmp_path / "var" / "imports"


def upload(client):
    return client.post(reverse("opportunities:import"), {"file": SimpleUploadedFile("deals.csv", FILE)})


def test_sales_staff_get_403_on_the_import_pages(sales_client, upload_dir):
    assert sales_client.get(reverse("opportunities:import")).status_code == 403
    assert upload(sales_client).status_code == 403
    assert not upload_dir.exists()


def test_a_manager_checks_then_imports_deals(manager_client, manager, upload_dir, english):
    CustomerFactory(owner=manager, name="Known Ltd")
    list_page = manager_client.get(reverse("opportunities:index")).content.decode()
    assert reverse("opportunities:import") in list_page
    response = upload(manager_client)
    assert response.status_code == 302
    preview_url = response["Location"]

    response = manager_client.get(preview_url)
    report = response.context["report"]
    assert (report.created, report.updated, report.rejected) == (2, 0, 1)
    assert "No customer has exactly this name." in response.content.decode()
    assert not Opportunity.objects.exists() and not OpportunityEvent.objects.exists()

    mapping = {name: field.initial for name, field in response.context["form"].fields.items()}
    response = manager_client.post(preview_url, {**mapping, "commit": ""})
    assert response.status_code == 200 and response.context["report"].committed
    assert sorted(Opportunity.objects.values_list("external_id", "stage__kind")) == [
        ("P1", "won"),
        ("P2", "lost"),
    ]
    assert OpportunityEvent.objects.count() == 4
