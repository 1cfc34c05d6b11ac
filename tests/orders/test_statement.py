"""The settlement statement (结算单): seller and buyer, lines, credit notes, payments, balance; the
seller profile managers edit; the PDF with its Chinese text."""

import io
import shutil
import subprocess
from decimal import Decimal as D

import pytest
from django.conf import settings
from django.urls import reverse
from pypdf import PdfReader

from orders import services
from orders.models import SellerProfile
from tests.orders.builders import advance, make_order

pytestmark = pytest.mark.django_db

SELLER = {
    "company_name": "上海华信自动化有限公司",
    "address": "上海市闵行区莘庄工业区 1 号",
    "tax_number": "91310000MA1K000001",
    "bank_name": "中国银行上海分行",
    "bank_account": "4563 5100 0000 0001",
    "phone": "+86 21 5555 0000",
}


@pytest.fixture
def settled(sales1, manager, customer):
    """The refund case: 45,400 paid, 1,800 credited and refunded, finished."""
    services.update_seller_profile(actor=manager, **SELLER)
    customer.tax_number = "91310115MA1H000002"
    customer.address = "上海市浦东新区张江路 88 号"
    customer.save()
    lines = [{"description": "气体分析仪", "quantity": 1, "unit_price": D("45400.00")}]
    order = advance(sales1, make_order(sales1, customer, lines=lines), "confirmed", "processing")
    services.record_payment(actor=sales1, order=order, amount=D("45400"), method="bank_transfer")
    services.issue_credit_note(
        actor=sales1,
        order=order,
        reason="运输损坏",
        amount=D("1800"),
        refund=D("1800"),
        refund_method="bank_transfer",
    )
    order.refresh_from_db()
    return services.finish_order(actor=sales1, order=order)


def test_the_statement_names_seller_and_buyer_and_adds_up(sales_client, settled):
    page = sales_client.get(reverse("orders:statement", args=[settled.pk])).content.decode()
    for text in [*SELLER.values(), "91310115MA1H000002", "Settlement statement", "Not a tax invoice."]:
        assert text in page, text
    assert "45,400.00" in page and "-1,800.00" in page and "43,600.00" in page
    assert 'data-testid="statement-balance">0.00 CNY' in page
    assert "Invoice" not in page


def test_the_chinese_statement_never_calls_itself_an_invoice(client, sales1, settled):
    client.force_login(sales1)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(reverse("orders:statement", args=[settled.pk])).content.decode()
    assert "结算单" in page and "发票" not in page


def test_the_pdf_has_the_chinese_text(client, sales1, settled, tmp_path):
    client.force_login(sales1)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get(reverse("orders:statement_pdf", args=[settled.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for expected in (
        "结算单",
        "上海华信自动化有限公司",
        "华东精密仪器有限公司",
        "91310115MA1H000002",
        "43,600.00",
        "运输损坏",
    ):
        assert expected in text, expected
    if shutil.which("pdftoppm"):  # it renders: a PNG of the first page
        pdf = tmp_path / "statement.pdf"
        pdf.write_bytes(response.content)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
            check=True,
        )
        assert list(tmp_path.glob("page*.png"))


def test_only_managers_edit_the_seller(sales_client, client, manager, db):
    url = reverse("orders:seller")
    assert sales_client.get(url).status_code == 403
    assert sales_client.post(url, SELLER).status_code == 403
    assert not SellerProfile.objects.exists()
    client.force_login(manager)
    assert client.post(url, SELLER).status_code == 302
    assert SellerProfile.current().tax_number == SELLER["tax_number"]
    assert client.post(url, {**SELLER, "tax_number": "x" * 31}).status_code == 200  # too long: at the field
    assert SellerProfile.current().tax_number == SELLER["tax_number"]


def test_another_owners_statement_answers_404(client, sales2, settled):
    client.force_login(sales2)
    assert client.get(reverse("orders:statement", args=[settled.pk])).status_code == 404
    assert client.get(reverse("orders:statement_pdf", args=[settled.pk])).status_code == 404
