"""CSV exports stream as their rows are read; small ones keep the whole-file guarantee."""

import csv
import io
from collections.abc import Iterator
from typing import cast

import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse

from crm import exports
from crm.exports import CSV_CHUNK_CHARACTERS, csv_response
from customers import views as customer_views
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

EXPORT = reverse("customers:export")


def read_csv(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_a_small_export_is_whole_with_its_length_and_a_large_one_streams_the_same_rows(
    manager_client, manager, settings
):
    CustomerFactory.create_batch(30, owner=manager)
    whole = manager_client.get(EXPORT, {"format": "csv"})
    assert isinstance(whole, FileResponse) and whole["Content-Length"]
    expected = read_csv(whole)
    settings.EXPORT_BUFFER_BYTES = 200
    streamed = manager_client.get(EXPORT, {"format": "csv"})
    assert isinstance(streamed, StreamingHttpResponse) and not isinstance(streamed, FileResponse)
    assert "Content-Length" not in streamed
    assert streamed["Content-Disposition"].startswith("attachment") and "text/csv" in streamed["Content-Type"]
    assert read_csv(streamed) == expected and len(expected) == 31


def test_rows_are_written_as_they_are_read(settings):
    settings.EXPORT_BUFFER_BYTES = 1000
    read: list[int] = []

    def rows():
        for index in range(20_000):
            read.append(index)
            yield [index, "客户" * 10, "=SUM(A1)"]

    response = csv_response("big", ["n", "name", "formula"], rows())
    assert isinstance(response, StreamingHttpResponse)
    chunks = iter(cast(Iterator[bytes], response.streaming_content))
    first, second = next(chunks), next(chunks)
    assert len(first) > 1000 and len(second.decode()) <= CSV_CHUNK_CHARACTERS + 100
    assert len(read) < 5_000  # two chunks in, most rows are still to be read
    rest = b"".join(chunks)
    lines = (first + second + rest).decode("utf-8-sig").splitlines()
    assert len(read) == 20_000 and len(lines) == 20_001
    assert lines[1] == "0,客户客户客户客户客户客户客户客户客户客户,'=SUM(A1)"


def test_a_streamed_export_that_fails_on_a_row_aborts_instead_of_ending_looking_complete(
    manager_client, manager, monkeypatch, settings
):
    settings.EXPORT_BUFFER_BYTES = 100
    monkeypatch.setattr(exports, "CSV_CHUNK_CHARACTERS", 50)
    CustomerFactory.create_batch(40, owner=manager)
    written: list[object] = []

    def row_that_breaks(customer):
        if len(written) == 30:
            raise RuntimeError("the database went away")
        written.append(customer)
        return [customer.pk, customer.name * 3]

    monkeypatch.setattr(customer_views, "_export_row", row_that_breaks)
    response = manager_client.get(EXPORT, {"format": "csv"})
    assert response.status_code == 200 and "Content-Length" not in response
    with pytest.raises(RuntimeError):
        b"".join(response.streaming_content)
