"""Exports too large for the request: written by a real worker as the user who asked, announced in the
notifications, downloadable by that user alone, deleted when they expire."""

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from django.core.files.storage import storages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from automation import exports
from automation.models import BackgroundExport, Notification
from customers.models import Tag
from tests.factories import CustomerFactory

EXPORT = reverse("customers:export")


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    return tmp_path


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx_rows(content: bytes) -> list[tuple]:
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return list(sheet.values)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def stored(export: BackgroundExport) -> bytes:
    with storages["exports"].open(export.file, "rb") as file:
        return file.read()


@pytest.mark.django_db(transaction=True)
def test_a_large_export_is_offered_then_written_by_a_worker_with_the_rows_of_the_direct_export(
    manager_client, manager, sales1, worker, settings, english
):
    tag = Tag.objects.create(name="VIP")
    for index in range(12):
        customer = CustomerFactory(owner=sales1 if index % 2 else manager, region="=HYPERLINK(1)")
        customer.tags.add(tag)
    query = {"format": "csv", "sort": "-name"}

    direct = manager_client.get(EXPORT, query)  # small: the file itself, as before
    assert direct["Content-Disposition"].startswith("attachment")
    expected = csv_rows(body(direct))
    assert len(expected) == 13 and not BackgroundExport.objects.exists()

    settings.EXPORT_BACKGROUND_ROWS = 10
    offer = manager_client.get(EXPORT, query)
    assert offer.status_code == 200 and "Content-Disposition" not in offer
    assert b'data-testid="export-offer"' in offer.content and b"more than 10 rows" in offer.content
    assert not BackgroundExport.objects.exists() and not DBTaskResult.objects.exists()  # a GET writes nothing

    asked = manager_client.post(f"{EXPORT}?format=csv&sort=-name")
    assert asked.status_code == 302 and asked["Location"] == reverse("exports")
    export = BackgroundExport.objects.get()
    assert (export.user, export.status, export.format, export.view_name) == (
        manager,
        "pending",
        "csv",
        "customers:export",
    )
    assert DBTaskResult.objects.get().task_path == "automation.tasks.write_export"

    worker()
    export.refresh_from_db()
    assert export.status == "ready" and export.rows == 12
    assert csv_rows(stored(export)) == expected
    assert export.expires_at and export.finished_at
    assert export.expires_at - export.finished_at == timedelta(hours=settings.EXPORT_KEEP_HOURS)

    notification = Notification.objects.get(user=manager)
    assert notification.url == reverse("export_download", args=[export.pk])
    assert "Customers" in notification.message and "12 rows" in notification.message
    opened = manager_client.post(reverse("notification_read", args=[notification.pk]))
    assert opened["Location"] == notification.url
    download = manager_client.get(notification.url)
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert ".csv" in download["Content-Disposition"]
    assert csv_rows(body(download)) == expected

    assert exports.write(export.pk) == "skipped"  # a second run of the task writes nothing again
    assert Notification.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_applies_the_users_visibility_filters_and_language_to_an_xlsx(
    client, sales1, sales2, worker, settings
):
    for index in range(8):
        CustomerFactory(owner=sales1, lifecycle_stage="lead" if index % 2 else "active", name=f"客户 {index}")
    CustomerFactory.create_batch(5, owner=sales2, lifecycle_stage="lead")
    client.force_login(sales1)
    query = "format=xlsx&lifecycle_stage=lead&sort=name"
    direct = xlsx_rows(body(client.get(f"{EXPORT}?{query}")))
    assert len(direct) == 5 and direct[0][1] == "名称"  # the default language is Chinese

    settings.EXPORT_BACKGROUND_ROWS = 3
    assert client.post(f"{EXPORT}?{query}").status_code == 302
    worker()
    export = BackgroundExport.objects.get()
    assert (export.status, export.format, export.language, export.rows) == ("ready", "xlsx", "zh-hans", 4)
    assert xlsx_rows(stored(export)) == direct
    assert {row[3] for row in direct[1:]} == {"sales1"}  # none of sales2's customers
    assert "已可下载" in Notification.objects.get(user=sales1).message_zh_hans


@pytest.mark.django_db(transaction=True)
def test_only_the_user_who_asked_can_download_the_file(client, manager, sales1, sales2, worker, settings):
    CustomerFactory.create_batch(3, owner=sales1)
    settings.EXPORT_BACKGROUND_ROWS = 1
    client.force_login(sales1)
    client.post(f"{EXPORT}?format=csv")
    worker()
    url = reverse("export_download", args=[BackgroundExport.objects.get().pk])
    assert client.get(url).status_code == 200
    for other in (sales2, manager):
        client.force_login(other)
        assert client.get(url).status_code == 404
        assert not Notification.objects.filter(user=other).exists()
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


@pytest.mark.django_db(transaction=True)
def test_an_export_that_fails_notifies_its_user_and_leaves_no_file(
    client, sales1, worker, settings, private_storage, english
):
    CustomerFactory.create_batch(3, owner=sales1)
    settings.EXPORT_BACKGROUND_ROWS = 1
    client.force_login(sales1)
    client.post(f"{EXPORT}?format=csv")
    sales1.is_active = False  # gone before the worker came to it: nothing is written for them
    sales1.save()
    worker()
    export = BackgroundExport.objects.get()
    assert (export.status, export.file, export.rows) == ("failed", "", None)
    assert DBTaskResult.objects.get().status == "FAILED"
    notification = Notification.objects.get(user=sales1)
    assert notification.url == "" and "could not be written" in notification.message
    assert not any(path.is_file() for path in private_storage.rglob("*"))


@pytest.mark.django_db
def test_invalid_filters_answer_400_and_ask_for_nothing(manager_client, manager, settings):
    CustomerFactory.create_batch(3, owner=manager)
    settings.EXPORT_BACKGROUND_ROWS = 1
    response = manager_client.post(f"{EXPORT}?format=csv&created_after=not-a-date")
    assert response.status_code == 400
    assert not BackgroundExport.objects.exists() and not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_the_queries_of_a_background_export_do_not_grow_with_its_rows(manager, settings):
    settings.EXPORT_BACKGROUND_ROWS = 1

    def queries_for_export() -> tuple[int, int | None]:
        export = BackgroundExport.objects.create(
            user=manager, view_name="customers:export", query="format=csv", format="csv", language="en",
            filename="customers", title="Customers",
        )  # fmt: skip
        with CaptureQueriesContext(connection) as captured:
            assert exports.write(export.pk) == "ready"
        export.refresh_from_db()
        return len(captured), export.rows

    tag = Tag.objects.create(name="VIP")
    for customer in CustomerFactory.create_batch(5, owner=manager):
        customer.tags.add(tag)
    few, rows = queries_for_export()
    assert rows == 5
    for customer in CustomerFactory.create_batch(45, owner=manager):
        customer.tags.add(tag)
    many, rows = queries_for_export()
    assert rows == 50 and many == few


@pytest.mark.django_db
def test_expired_files_are_deleted_and_their_link_says_so(manager_client, manager, settings):
    settings.EXPORT_BACKGROUND_ROWS = 1
    CustomerFactory.create_batch(2, owner=manager)
    export = BackgroundExport.objects.create(
        user=manager, view_name="customers:export", query="format=csv", format="csv", language="en",
        filename="customers", title="Customers",
    )  # fmt: skip
    exports.write(export.pk)
    export.refresh_from_db()
    assert storages["exports"].exists(export.file)

    assert exports.expire_exports(timezone.now()) == 0  # not yet
    assert export.expires_at
    assert exports.expire_exports(export.expires_at + timedelta(seconds=1)) == 1
    name = export.file
    export.refresh_from_db()
    assert (export.status, export.file) == ("expired", "")
    assert not storages["exports"].exists(name)
    response = manager_client.get(reverse("export_download", args=[export.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("exports")


def _export(user, status, **fields):
    return BackgroundExport.objects.create(
        user=user, view_name="customers:export", query="format=csv", format="csv", language="en",
        filename="customers", title=fields.pop("title", "Customers"), status=status, **fields,
    )  # fmt: skip


@pytest.mark.django_db
def test_my_exports_lists_the_users_own_exports_where_they_stand(sales_client, sales1, manager, settings):
    now = timezone.now()
    ready = _export(sales1, "ready", rows=12345, size=2048, expires_at=now + timedelta(hours=5), file="x.csv")
    _export(sales1, "expired", title="Orders", rows=3, size=10)
    _export(sales1, "failed", title="Follow-ups")
    _export(manager, "ready", title="The manager's secret list", rows=1, size=1, file="y.csv")

    sales_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    content = sales_client.get(reverse("exports")).content.decode()
    assert content.count('data-testid="export-row"') == 3 and "secret" not in content
    assert content.count('data-testid="export-download"') == 1  # the ready one only
    assert f'href="{reverse("export_download", args=[ready.pk])}"' in content
    assert "12,345" in content and "2.0\xa0KB" in content
    assert ">Ready<" in content and ">Expired<" in content and ">Failed<" in content
    assert 'hx-trigger="every 5s"' not in content  # nothing is being written: no refreshing

    _export(sales1, "pending", title="Opportunities")
    sales_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    content = sales_client.get(reverse("exports")).content.decode()
    assert 'hx-trigger="every 5s"' in content  # it refreshes until the file is written
    assert "我的导出" in content and "可下载" in content and "大小" in content


@pytest.mark.django_db
def test_my_exports_costs_the_same_queries_for_many_exports(sales_client, sales1, count_queries):
    _export(sales1, "ready", rows=1, size=1, file="x.csv")
    few = count_queries(sales_client, reverse("exports"))
    for index in range(40):
        _export(sales1, ["ready", "expired", "failed", "pending"][index % 4], rows=index, size=index)
    many = count_queries(sales_client, reverse("exports"))
    assert many == few and many.response.content.count(b'data-testid="export-row"') == 25
