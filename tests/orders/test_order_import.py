"""Orders imported with their lines, payments and history: the services' rules, the file's times, the
reports computed from them against the file, idempotence by external id, and rejection of whole orders."""

import io
import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from crm.importing import Action, MappingError, read_table
from crm.reporting import Period, ReportFilters
from orders.importing_orders import COLUMNS, run_import
from orders.models import Order, OrderEvent, OrderLine, Payment, Status
from orders.reports import cycle_time, revenue
from tests.orders.builders import csv_bytes

pytestmark = pytest.mark.django_db

D = Decimal
HEADER = [
    "order id",
    "customer",
    "created",
    "confirmed at",
    "processing since",
    "finished at",
    "closed at",
    "tax rate",
    "sku",
    "description",
    "quantity",
    "unit price",
    "paid amount",
    "paid at",
    "payment method",
]


def local(text: str) -> datetime:
    return timezone.make_aware(datetime.strptime(text, "%Y-%m-%d %H:%M"))


def row(order_id, customer="华东精密仪器有限公司", **cells):
    values = {
        "order id": order_id,
        "customer": customer,
        **{k.replace("_", " "): v for k, v in cells.items()},
    }
    return [values.get(column, "") for column in HEADER]


def run(actor, rows, *, commit=True, header=HEADER):
    table = read_table(csv_bytes([header, *rows]))
    return run_import(actor=actor, table=table, mapping=COLUMNS.detect(table.headers), commit=commit)


def history_rows():
    """O-1 finished with two lines and two payments; O-2 confirmed then cancelled; O-3 confirmed and
    partly paid."""
    created = {"created": "2025-01-05 09:00", "tax_rate": "13"}
    return [
        row(
            "O-1",
            **created,
            confirmed_at="2025-01-06 10:00",
            processing_since="2025-01-08 15:30",
            finished_at="2025-01-20 11:00",
            sku="sen-100",
            quantity="10",
            unit_price="19.99",
            paid_amount="100.00",
            paid_at="2025-01-07 12:00",
            payment_method="支付宝",
        ),
        row(
            "O-1",
            **created,
            description="Installation",
            quantity="1",
            unit_price="200",
            paid_amount="351.89",
            paid_at="2025-01-19 16:00",
        ),
        row(
            "O-2",
            created="2025-02-01 08:00",
            confirmed_at="2025-02-02 08:00",
            closed_at="2025-02-10 09:00",
            description="Cable",
            quantity="2",
            unit_price="50",
        ),
        row(
            "O-3",
            created="2025-03-01 08:00",
            confirmed_at="2025-03-03 08:00",
            sku="SEN-100",
            quantity="1",
            paid_amount="5",
            paid_at="2025-03-04 08:00",
            payment_method="cash",
        ),
    ]


def test_orders_with_lines_payments_and_history_keep_the_files_times(manager, customer, product):
    report = run(manager, history_rows())
    assert [(r.number, r.action, r.errors) for r in report.rows] == [
        (2, Action.CREATE, []),
        (4, Action.CREATE, []),
        (5, Action.CREATE, []),
    ]
    o1 = Order.objects.get(external_id="O-1")
    subtotal = D("10") * D("19.99") + D("200")
    tax = (subtotal * D("0.13")).quantize(D("0.01"), ROUND_HALF_UP)
    assert (
        (o1.subtotal, o1.tax, o1.total)
        == (subtotal, tax, subtotal + tax)
        == (D("399.90"), D("51.99"), D("451.89"))
    )
    assert (o1.status, o1.paid_amount, o1.balance) == (Status.FINISHED, D("451.89"), 0)
    assert o1.number.startswith("SO-2025-") and o1.invoice_number.startswith("INV-2025-")
    assert o1.customer == customer and o1.owner == customer.owner
    assert [(line.product, line.description, line.quantity) for line in o1.lines.order_by("position")] == [
        (product, product.name, 10),
        (None, "Installation", 1),
    ]
    assert (o1.created_at, o1.confirmed_at, o1.processing_at, o1.finished_at) == (
        local("2025-01-05 09:00"),
        local("2025-01-06 10:00"),
        local("2025-01-08 15:30"),
        local("2025-01-20 11:00"),
    )
    events = [(event.type, event.at) for event in o1.events.order_by("at", "id")]
    assert events == [
        (OrderEvent.Type.CREATED, local("2025-01-05 09:00")),
        (OrderEvent.Type.CONFIRMED, local("2025-01-06 10:00")),
        (OrderEvent.Type.PAYMENT_RECORDED, local("2025-01-07 12:00")),
        (OrderEvent.Type.PROCESSING_STARTED, local("2025-01-08 15:30")),
        (OrderEvent.Type.PAYMENT_RECORDED, local("2025-01-19 16:00")),
        (OrderEvent.Type.FINISHED, local("2025-01-20 11:00")),
    ]
    assert list(o1.payments.values_list("method", flat=True)) == ["alipay", "alipay"]
    o2 = Order.objects.get(external_id="O-2")
    assert (o2.status, o2.closed_at, o2.close_reason) == (
        Status.CLOSED,
        local("2025-02-10 09:00"),
        "Closed before the import",
    )
    assert o2.events.get(type=OrderEvent.Type.CLOSED).from_status == Status.CONFIRMED
    o3 = Order.objects.get(external_id="O-3")
    assert (o3.status, o3.paid_amount, o3.tax_rate) == (Status.CONFIRMED, D("5.00"), 0)
    assert o3.payments.get().paid_at == local("2025-03-04 08:00")


def test_a_missing_earlier_step_takes_the_time_of_the_next(manager, customer):
    run(
        manager,
        [
            row(
                "O-9",
                created="2025-01-05 09:00",
                finished_at="2025-01-09 10:00",
                description="Cable",
                quantity="1",
                unit_price="10",
                paid_amount="10",
                paid_at="2025-01-09 09:00",
            )
        ],
    )
    order = Order.objects.get(external_id="O-9")
    assert order.confirmed_at == order.processing_at == order.finished_at == local("2025-01-09 10:00")


def orders_file(customer, count, seed=3):
    """`count` finished orders over two years, one to three lines each, paid in full before finishing."""
    rng = random.Random(seed)
    start = timezone.now() - timedelta(days=730)
    rows, orders = [], []
    for index in range(count):
        created = start + timedelta(days=rng.randrange(0, 650), minutes=rng.randrange(0, 1440))
        confirmed = created + timedelta(hours=rng.randrange(1, 200))
        processing = confirmed + timedelta(hours=rng.randrange(1, 100))
        finished = processing + timedelta(hours=rng.randrange(1, 300))
        lines = [
            (rng.randrange(1, 20), D(rng.randrange(100, 99999)) / 100) for _ in range(rng.randrange(1, 4))
        ]
        total = sum(quantity * price for quantity, price in lines)
        stamp = {
            name: timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
            for name, moment in (
                ("created", created),
                ("confirmed_at", confirmed),
                ("processing_since", processing),
                ("finished_at", finished),
            )
        }
        for position, (quantity, price) in enumerate(lines):
            payment = (
                {"paid_amount": str(total), "paid_at": stamp["processing_since"]} if position == 0 else {}
            )
            rows.append(
                row(
                    f"X{index}",
                    customer.name,
                    **stamp,
                    description=f"Item {position}",
                    quantity=str(quantity),
                    unit_price=str(price),
                    **payment,
                )
            )
        orders.append({key: local(value) for key, value in stamp.items()} | {"total": total})
    return rows, orders


def test_report_figures_equal_those_computed_from_the_file(manager, customer):
    rows, orders = orders_file(customer, 60)
    report = run(manager, rows)
    assert (report.created, report.rejected) == (60, 0)
    period = Period(timezone.localdate() - timedelta(days=800), timezone.localdate())
    by_month: defaultdict[date, list] = defaultdict(lambda: [D(0), 0])
    for order in orders:
        month = timezone.localtime(order["finished_at"]).date().replace(day=1)
        by_month[month][0] += order["total"]
        by_month[month][1] += 1
    found = {
        r["month"]: [r["amount"], r["orders"]] for r in revenue(manager, period, ReportFilters(), ["month"])
    }
    assert found == dict(by_month)
    [confirm] = cycle_time(manager, period, ReportFilters(), "confirm")
    expected = sum((o["confirmed_at"] - o["created"]).total_seconds() for o in orders) / 86400 / 60
    assert confirm["orders"] == 60 and float(confirm["mean"]) == pytest.approx(expected, abs=1e-4)
    [finish] = cycle_time(manager, period, ReportFilters(), "finish")
    expected = sum((o["finished_at"] - o["processing_since"]).total_seconds() for o in orders) / 86400 / 60
    assert float(finish["mean"]) == pytest.approx(expected, abs=1e-4)


def test_importing_again_updates_by_external_id_and_never_duplicates(manager, customer, product):
    first = history_rows()
    # O-3 is not finished yet in the first file; the second has its last payment and its finish.
    run(manager, first)
    counts = [model.objects.count() for model in (Order, OrderLine, Payment, OrderEvent)]
    again = run(manager, first)
    assert [(r.action, r.changes) for r in again.rows] == [(Action.UPDATE, [])] * 3
    assert [model.objects.count() for model in (Order, OrderLine, Payment, OrderEvent)] == counts
    o3 = Order.objects.get(external_id="O-3")
    later = [
        *first[:3],
        row(
            "O-3",
            created="2025-03-01 08:00",
            confirmed_at="2025-03-03 08:00",
            processing_since="2025-03-05 08:00",
            finished_at="2025-03-06 08:00",
            sku="SEN-100",
            quantity="1",
            paid_amount="5",
            paid_at="2025-03-04 08:00",
            payment_method="cash",
        ),
        row("O-3", paid_amount=str(o3.balance), paid_at="2025-03-05 09:00"),
    ]
    report = run(manager, later)
    [result] = [r for r in report.rows if r.record_id == o3.pk]
    assert result.action == Action.UPDATE
    assert [(str(c.field), c.old, c.new) for c in result.changes] == [
        ("Status", "Confirmed", "Finished"),
        ("Paid", "5.00", str(o3.total)),
    ]
    o3.refresh_from_db()
    assert (o3.status, o3.finished_at, o3.payments.count()) == (Status.FINISHED, local("2025-03-06 08:00"), 2)
    assert Order.objects.count() == 3


def test_a_dry_run_writes_nothing(manager, customer, product):
    report = run(manager, history_rows(), commit=False)
    assert (report.created, report.rejected, report.committed) == (3, 0, False)
    assert not Order.objects.exists() and not OrderEvent.objects.exists() and not Payment.objects.exists()


def test_an_order_with_one_bad_line_is_rejected_whole_with_the_reasons(manager, customer, product):
    rows = [
        row("B-1", created="2025-01-05 09:00", sku="SEN-100", quantity="2"),
        row("B-1", created="2025-01-05 09:00", description="Cable", quantity="two", unit_price="5"),
        row("B-2", created="2025-01-05 09:00", sku="NOPE", quantity="1"),
        row("B-3", created="yesterday", description="Cable", quantity="1", unit_price="5"),
        row("B-4", customer="Nobody Ltd", created="2025-01-05 09:00", description="Cable", unit_price="5"),
        row(
            "B-5",
            created="2025-01-05 09:00",
            finished_at="2025-01-09 10:00",
            description="Cable",
            quantity="1",
            unit_price="10",
        ),  # not paid
        row(
            "B-6",
            created="2025-01-05 09:00",
            confirmed_at="2025-01-04 09:00",
            description="Cable",
            quantity="1",
            unit_price="10",
        ),  # confirmed before it was created
        row(
            "B-7",
            created="2025-01-05 09:00",
            confirmed_at="2025-01-06 09:00",
            description="Cable",
            quantity="1",
            unit_price="10",
            paid_amount="50",
            paid_at="2025-01-07 09:00",
        ),  # overpaid
        row("", created="2025-01-05 09:00"),
        row("OK", created="2025-01-05 09:00", description="Cable", quantity="1", unit_price="10"),
    ]
    report = run(manager, rows)
    errors = {r.number: r.errors for r in report.rows}
    assert [r.action for r in report.rows] == [*[Action.REJECT] * 8, Action.CREATE]
    assert errors[2] == ["Row 3: Quantity: “two” value must be an integer."]
    assert errors[4] == ["Row 4: Product (SKU or external id): No product has this SKU or external id."]
    assert errors[5] == ["Created: “yesterday” is not a date such as 2025-03-31."]
    assert errors[6] == ["Customer: No customer you can see has exactly this name."]
    assert errors[7] == ["Finished at: The balance is 10.00 CNY: record the payments before finishing."]
    assert errors[8] == [
        "Confirmed at: This cannot be dated before the order's previous step (2025-01-05 09:00)."
    ]
    assert errors[9] == ["Row 9: Paid amount: That is more than the balance of 10.00."]
    assert errors[10] == ["Order external id: Every row needs the external id of its order."]
    assert list(Order.objects.values_list("external_id", flat=True)) == ["OK"]
    assert OrderLine.objects.count() == 1 and not Payment.objects.exists()
    assert OrderEvent.objects.count() == 1


def test_an_agent_cannot_import_onto_another_owners_customer(sales1, sales2, customer, theirs):
    rows = [
        row(
            "A-1",
            customer=theirs.name,
            created="2025-01-05 09:00",
            description="Cable",
            quantity="1",
            unit_price="5",
        ),
        row("A-2", created="2025-01-05 09:00", description="Cable", quantity="1", unit_price="5"),
    ]
    report = run(sales1, rows)
    assert report.rows[0].action == Action.REJECT and report.rows[0].errors
    assert report.rows[1].action == Action.CREATE
    assert not Order.objects.filter(customer=theirs).exists()
    # An order of theirs imported before is not touched by the agent's re-import.
    run(
        sales2,
        [
            row(
                "A-3",
                customer=theirs.name,
                created="2025-01-05 09:00",
                description="Cable",
                quantity="1",
                unit_price="5",
            )
        ],
    )
    again = run(
        sales1,
        [
            row(
                "A-3",
                customer=theirs.name,
                created="2025-01-05 09:00",
                confirmed_at="2025-01-06 09:00",
                description="Cable",
                quantity="1",
                unit_price="5",
            )
        ],
    )
    assert again.rows[0].errors == [
        "Order external id: An order with this external id exists, and you may not change it."
    ]
    assert Order.objects.get(external_id="A-3").status == Status.CREATED


def test_no_column_for_a_required_field_is_said_once(manager, customer):
    with pytest.raises(MappingError) as raised:
        run(manager, [["O-1", "2025-01-05"]] * 3, header=["order id", "when"])
    assert str(raised.value) == (
        "No column is imported as Customer; Created, which every row needs. The columns are: order id, when."
    )


def test_the_page_and_the_command(manager_client, manager, customer, product, settings, tmp_path):
    settings.BASE_DIR = tmp_path
    data = csv_bytes([HEADER, *history_rows()])
    upload = manager_client.post(reverse("orders:import"), {"file": SimpleUploadedFile("orders.csv", data)})
    preview = manager_client.get(upload["Location"])
    assert preview.context["report"].created == 3 and not Order.objects.exists()
    mapping = {f"column_{i}": key for i, key in enumerate(COLUMNS.detect(HEADER))}
    done = manager_client.post(upload["Location"], {**mapping, "commit": ""})
    assert done.context["report"].committed and Order.objects.count() == 3
    # A column mapped away from a required field: one message on the page, no report.
    upload = manager_client.post(reverse("orders:import"), {"file": SimpleUploadedFile("orders.csv", data)})
    page = manager_client.post(upload["Location"], {**mapping, "column_1": "", "preview": ""})
    assert page.context["report"] is None
    assert "No column is imported as Customer" in page.content.decode()
    path = tmp_path / "orders.csv"
    path.write_bytes(
        csv_bytes(
            [
                HEADER,
                row("C-1", created="2025-01-05 09:00", description="Cable", quantity="1", unit_price="5"),
            ]
        )
    )
    out = io.StringIO()
    call_command("import_orders", str(path), stdout=out)
    assert "Dry run" in out.getvalue() and not Order.objects.filter(external_id="C-1").exists()
    call_command("import_orders", str(path), "--commit", stdout=io.StringIO())
    assert Order.objects.filter(external_id="C-1").exists()
    with pytest.raises(CommandError, match="No column is imported as Customer"):
        call_command("import_orders", str(path), "--map", "customer=", stdout=io.StringIO())


def test_only_managers_see_the_import_pages(sales_client):
    assert sales_client.get(reverse("orders:import")).status_code == 403
