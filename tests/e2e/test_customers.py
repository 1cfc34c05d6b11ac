import csv
import io

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from customers.models import Customer
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_create_customer_add_need_search_and_export(page, live_server, login, screenshot):
    UserFactory(username="sales1", groups=[Group.objects.get(name="Sales")])
    login("sales1", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()

    page.goto(f"{live_server.url}/customers/new/")
    page.get_by_label("Name").fill("华东精密仪器有限公司")
    page.get_by_label("Region").fill("上海")
    page.get_by_test_id("method-row-0").get_by_label("Value").fill("138 0013 8000")
    page.get_by_test_id("method-row-1").get_by_label("Value").fill("Info@HuaDong.cn")
    screenshot("customer-create")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("华东精密仪器有限公司")
    methods = page.locator("#contact-methods")
    expect(methods).to_contain_text("+86 138 0013 8000")
    expect(methods).to_contain_text("info@huadong.cn")

    need_form = page.get_by_test_id("need-form")
    need_form.get_by_label("Priority").select_option("high")
    need_form.get_by_label("Description").fill("需要 200 台传感器，三月底前交付")
    need_form.get_by_role("button", name="Record need").click()
    expect(page.locator("#needs")).to_contain_text("需要 200 台传感器")
    screenshot("customer-detail")
    customer = Customer.objects.get()
    assert customer.needs.get().priority == "high"

    search = page.get_by_role("searchbox", name="Search").first
    search.fill("0013 8000")
    search.press("Enter")
    expect(page.locator(".search-results")).to_contain_text("华东精密仪器有限公司")
    screenshot("search")

    page.goto(f"{live_server.url}/customers/?q=huadong")
    expect(page.locator(".customer-table tbody tr")).to_have_count(1)
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    exported = download_info.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported)))
    assert [row[1] for row in rows[1:]] == ["华东精密仪器有限公司"]
    assert rows[1][10] == "'+8613800138000"
