import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sales_user_logs_in_switches_language_and_logs_out(page, live_server, login, screenshot):
    sales = Group.objects.get(name="Sales")
    UserFactory(username="sales1", first_name="Lei", last_name="Zhang", groups=[sales])

    page.goto(live_server.url + "/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    login("sales1", PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lei Zhang")
    expect(page.get_by_role("navigation", name="Main navigation")).to_be_visible()
    expect(page.get_by_role("link", name="Customers", exact=True)).to_be_visible()

    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("link", name="客户", exact=True)).to_be_visible()
    screenshot("dashboard-zh-hans")

    page.get_by_role("button", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Customers", exact=True)).to_be_visible()
    screenshot("dashboard-en")

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    page.goto(live_server.url + "/reports/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/reports/")
