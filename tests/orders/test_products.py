import csv
import hashlib
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from crm.importing import Action, read_table
from orders import services
from orders.importing import COLUMNS, run_import, run_import_generating_skus
from orders.models import Product
from tests.factories import ProductFactory
from tests.orders.builders import csv_bytes

pytestmark = pytest.mark.django_db

D = Decimal
PRODUCTS = reverse("orders:products")


def test_everyone_sees_the_catalogue_only_managers_change_it(sales_client, manager, product):
    assert product.sku in sales_client.get(PRODUCTS).content.decode()
    for url in (
        reverse("orders:product_create"),
        reverse("orders:product_edit", args=[product.pk]),
        reverse("orders:product_import"),
    ):
        assert sales_client.get(url).status_code == 403
    assert (
        sales_client.post(
            reverse("orders:product_create"), {"sku": "X", "name": "X", "unit_price": "1"}
        ).status_code
        == 403
    )
    assert Product.objects.count() == 1


def test_a_manager_creates_and_edits_a_product(manager_client):
    response = manager_client.post(
        reverse("orders:product_create"),
        {"sku": "hmi-7", "name": "7-inch panel", "series": "HMI", "unit_price": "2980", "active": "on"},
    )
    assert response.status_code == 302
    product = Product.objects.get()
    assert (product.sku, product.unit_price, product.active) == ("HMI-7", D("2980.00"), True)
    response = manager_client.post(
        reverse("orders:product_edit", args=[product.pk]),
        {"sku": "HMI-7", "name": "7-inch panel", "unit_price": "-1"},
    )
    assert "unit_price" in response.context["form"].errors
    assert Product.objects.get().unit_price == D("2980.00")
    response = manager_client.post(
        reverse("orders:product_create"), {"sku": "Hmi-7", "name": "Dup", "unit_price": "1"}
    )
    assert "sku" in response.context["form"].errors and Product.objects.count() == 1


def test_the_product_list_filters_and_runs_a_fixed_number_of_queries(sales_client, count_queries):
    ProductFactory(sku="SEN-1", name="Sensor one", series="Sensors")
    ProductFactory(sku="VAL-1", name="Valve", series="Valves", active=False)
    few = count_queries(sales_client, PRODUCTS)
    for _ in range(40):
        ProductFactory()
    assert count_queries(sales_client, PRODUCTS) == few

    def skus(query):
        return {p.sku for p in sales_client.get(PRODUCTS + query).context["page"].items}

    assert skus("?q=sen-1") == {"SEN-1"}
    assert skus("?q=valve") == {"VAL-1"}
    assert skus("?series=Valves") == {"VAL-1"}
    assert "VAL-1" not in skus("?active=true")


def test_product_export(sales_client, product):
    response = sales_client.get(reverse("orders:product_export") + "?format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[1] == ["SEN-100", "Temperature sensor", "Sensors", "19.99", "Yes"]


ROWS = [
    ["产品编码", "产品名称", "系列", "单价", "状态"],
    ["sen-100", "", "", "21.50", ""],  # updates the price only
    ["NEW-1", "New gateway", "Gateways", "¥3,600.00", "是"],
    ["NEW-2", "No price", "", "", ""],
    ["NEW-3", "Bad price", "", "abc", ""],
    ["", "No SKU", "", "1", ""],
    ["NEW-4", "Bad flag", "", "1", "maybe"],
]


def test_import_creates_updates_and_rejects_rows(manager, product):
    table = read_table(csv_bytes(ROWS))
    mapping = COLUMNS.detect(table.headers)
    assert mapping == ["sku", "name", "series", "unit_price", "active"]
    dry = run_import(actor=manager, table=table, mapping=mapping, commit=False)
    assert [row.action for row in dry.rows] == [Action.UPDATE, Action.CREATE, *[Action.REJECT] * 4]
    assert Product.objects.count() == 1 and Product.objects.get().unit_price == D("19.99")
    report = run_import(actor=manager, table=table, mapping=mapping, commit=True)
    assert (report.created, report.updated, report.rejected) == (1, 1, 4)
    assert any("Unit price" in error for error in report.rows[2].errors)
    assert report.rows[3].errors == ["Unit price: “abc” is not a price."]
    assert report.rows[4].errors == ["SKU: Every row needs a SKU, unless the missing SKUs are generated."]
    assert report.rows[5].errors == ["Active: Write yes or no, not “maybe”."]
    product.refresh_from_db()
    assert (product.name, product.unit_price) == ("Temperature sensor", D("21.50"))
    assert Product.objects.get(sku="NEW-1").unit_price == D("3600.00")


def test_the_import_pages_and_command(manager_client, manager, settings, tmp_path):
    settings.BASE_DIR = tmp_path
    response = manager_client.post(
        reverse("orders:product_import"), {"file": SimpleUploadedFile("products.csv", csv_bytes(ROWS[:3]))}
    )
    preview = manager_client.get(response["Location"])
    assert (preview.context["report"].created, preview.context["report"].rejected) == (1, 1)
    assert not Product.objects.exists()
    assert "Import products" in preview.content.decode()
    done = manager_client.post(
        response["Location"],
        {**{f"column_{i}": key for i, key in enumerate(COLUMNS.detect(ROWS[0]))}, "commit": ""},
    )
    assert done.context["report"].committed and Product.objects.count() == 1
    path = tmp_path / "more.csv"
    path.write_bytes(csv_bytes([["sku", "name", "unit_price"], ["CMD-1", "From the command", "5"]]))
    out = io.StringIO()
    call_command("import_products", str(path), "--user", "manager", stdout=out)
    assert "Dry run" in out.getvalue() and not Product.objects.filter(sku="CMD-1").exists()
    call_command("import_products", str(path), "--user", "manager", "--commit", stdout=io.StringIO())
    assert Product.objects.filter(sku="CMD-1").exists()


def test_missing_skus_are_generated_on_request_the_same_each_time(manager):
    rows = [
        ["sku", "external id", "name", "unit price"],
        ["", "EXT-1", "Sensor", "10"],
        ["", "", "Cable", "2"],
        ["", "", "", "3"],
    ]
    table = read_table(csv_bytes(rows))
    mapping = COLUMNS.detect(table.headers)
    refused = run_import(actor=manager, table=table, mapping=mapping, commit=True)
    assert [row.errors for row in refused.rows] == [
        ["SKU: Every row needs a SKU, unless the missing SKUs are generated."]
    ] * 3
    assert not Product.objects.exists()

    made = run_import_generating_skus(actor=manager, table=table, mapping=mapping, commit=True)
    assert [row.action for row in made.rows] == [Action.CREATE, Action.CREATE, Action.REJECT]
    assert made.rows[2].errors == ["Name: A SKU is made from the name: fill it in."]
    sensor, cable = Product.objects.get(external_id="EXT-1"), Product.objects.get(name="Cable")
    assert sensor.sku == "P-" + hashlib.sha256(b"ext-1").hexdigest()[:8].upper()
    assert cable.sku == "P-" + hashlib.sha256(b"cable").hexdigest()[:8].upper()
    again = run_import_generating_skus(actor=manager, table=table, mapping=mapping, commit=True)
    assert [(row.action, row.record_id) for row in again.rows[:2]] == [
        (Action.UPDATE, sensor.pk),
        (Action.UPDATE, cable.pk),
    ]
    assert Product.objects.count() == 2


def test_a_generated_sku_held_by_another_product_moves_on(manager):
    base = "P-" + hashlib.sha256(b"cable").hexdigest()[:8].upper()
    ProductFactory(sku=base, name="Something else")
    assert services.generated_sku(name="Cable") == f"{base}-2"
    ProductFactory(sku=f"{base}-2", name="Cable")
    assert services.generated_sku(name="Cable") == f"{base}-2"


def test_a_row_matches_its_product_by_external_id(manager, product):
    services.update_product(actor=manager, product=product, external_id="ERP-7")
    table = read_table(csv_bytes([["external id", "unit price"], ["ERP-7", "25"]]))
    report = run_import_generating_skus(
        actor=manager, table=table, mapping=COLUMNS.detect(table.headers), commit=True
    )
    assert [(row.action, row.record_id) for row in report.rows] == [(Action.UPDATE, product.pk)]
    product.refresh_from_db()
    assert (product.sku, product.unit_price) == ("SEN-100", D("25.00"))


def test_the_page_and_the_command_generate_skus_when_asked(manager_client, manager, settings, tmp_path):
    settings.BASE_DIR = tmp_path
    data = csv_bytes([["name", "unit_price"], ["Cable", "2"]])
    upload = manager_client.post(
        reverse("orders:product_import"), {"file": SimpleUploadedFile("products.csv", data)}
    )
    mapping = {"column_0": "name", "column_1": "unit_price"}
    first = manager_client.get(upload["Location"])  # the detected mapping has no SKU either
    assert "No column is imported as SKU" in first.content.decode() and first.context["report"] is None
    page = manager_client.post(upload["Location"], {**mapping, "preview": ""})
    assert "Generate the missing SKUs" in page.content.decode()
    assert "No column is imported as SKU" in page.content.decode() and page.context["report"] is None
    checked = manager_client.post(upload["Location"], {**mapping, "option": "on", "preview": ""})
    assert checked.context["report"].created == 1 and not Product.objects.exists()
    manager_client.post(upload["Location"], {**mapping, "option": "on", "commit": ""})
    assert Product.objects.get().sku.startswith("P-")
    path = tmp_path / "more.csv"
    path.write_bytes(csv_bytes([["name", "unit_price"], ["Cord", "5"]]))
    with pytest.raises(CommandError, match="No column is imported as SKU"):
        call_command("import_products", str(path), "--commit", stdout=io.StringIO())
    call_command("import_products", str(path), "--generate-sku", "--commit", stdout=io.StringIO())
    assert Product.objects.get(name="Cord").sku == services.generated_sku(name="Cord")
