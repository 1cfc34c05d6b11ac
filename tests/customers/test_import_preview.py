"""The import dry run names the customer each update matches and every change it makes (old → new);
the real run changes nothing the dry run did not show."""

import pytest
from django.utils import translation

from crm.importing import Action, read_table
from customers import services
from customers.importing import COLUMNS, run_import
from customers.models import Customer, Tag
from tests.customers.test_import import csv_bytes, upload
from tests.customers.test_import import upload_dir as upload_dir

pytestmark = pytest.mark.django_db


def run(user, rows, *, commit):
    table = read_table(csv_bytes(rows))
    with translation.override("en"):
        report = run_import(actor=user, table=table, mapping=COLUMNS.detect(table.headers), commit=commit)
        return report, [[(str(c.field), c.old, c.new) for c in row.changes] for row in report.rows]


@pytest.fixture
def acme(manager, sales1):
    Tag.objects.create(name="VIP")
    return services.create_customer(
        actor=manager,
        owner=sales1,
        name="Acme Ltd",
        lifecycle_stage="prospect",
        region="上海",
        contact_methods=[{"type": "mobile", "value": "13800138000"}],
    )


ROWS = [
    ["name", "phone", "email", "lifecycle_stage", "region", "tags", "owner"],
    ["", "+86 138-0013-8000", "sales@acme.cn", "active", "上海", "VIP", "sales2"],
]


def snapshot(customer):
    customer = Customer.objects.get(pk=customer.pk)
    with translation.override("en"):
        return _described(customer)


def _described(customer):
    return {
        "Lifecycle stage": customer.get_lifecycle_stage_display(),
        "Region": customer.region,
        "Tags": ", ".join(sorted(customer.tags.values_list("name", flat=True))),
        "Owner": customer.owner.get_full_name() or customer.owner.get_username(),
        "Email": ", ".join(customer.contact_methods.filter(type="email").values_list("value", flat=True)),
    }


def test_the_dry_run_names_the_customer_and_each_change(manager, sales1, sales2, acme):
    before = snapshot(acme)
    report, changes = run(manager, ROWS, commit=False)
    row = report.rows[0]
    assert (row.action, row.record_id, row.name) == (Action.UPDATE, acme.pk, "Acme Ltd")
    shown = {field: (old, new) for field, old, new in changes[0]}
    assert shown["Lifecycle stage"] == ("Prospect", "Active")
    assert shown["Tags"] == ("", "VIP")
    assert shown["Owner"] == (before["Owner"], sales2.get_full_name() or sales2.get_username())
    assert shown["Email"] == ("", "sales@acme.cn")
    assert "Region" not in shown  # the same value is no change
    assert snapshot(acme) == before  # a dry run writes nothing


def test_the_real_run_changes_exactly_what_the_dry_run_showed(manager, sales2, acme):
    before = snapshot(acme)
    _report, dry = run(manager, ROWS, commit=False)
    _report, real = run(manager, ROWS, commit=True)
    assert real == dry
    after = snapshot(acme)
    changed = {field for field in before if before[field] != after[field]}
    assert changed == {field for field, _old, _new in dry[0]}
    for field, old, new in dry[0]:
        assert (before[field], after[field]) == (old, new)


def test_the_preview_page_shows_the_changes(manager_client, manager, sales2, acme, upload_dir):
    response = upload(manager_client, csv_bytes(ROWS))
    with translation.override("en"):
        page = manager_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert f'<span class="text-body-secondary">#{acme.pk}</span> Acme Ltd' in html
    assert page.context["report"].rows[0].changes
    assert "<del>" in html and "<ins>" in html
    assert Customer.objects.get(pk=acme.pk).lifecycle_stage == "prospect"  # the preview writes nothing
