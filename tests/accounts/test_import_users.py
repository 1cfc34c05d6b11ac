"""`manage.py import_users FILE`: a dry run first (nothing saved, nothing sent), then 100 users in one run."""

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import translation

from accounts.models import Membership, Team
from automation.models import OutgoingEmail

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = ["用户名", "姓名", "邮箱", "角色", "团队"]


def organisation(count: int) -> list[list[str]]:
    rows = []
    for index in range(count):
        role = "组长" if index % 25 == 0 else ("manager" if index == 99 else "sales")
        rows.append(
            [
                f"agent{index:03d}",
                f"Agent{index} Zhang",
                f"agent{index}@example.com",
                role,
                f"Office {index % 3}",
            ]
        )
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER, *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def run(*args: str) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("import_users", *args, stdout=out)
    return out.getvalue()


def test_a_dry_run_then_100_users_in_one_run(tmp_path, settings):
    settings.SITE_URL = "https://crm.example.com"
    file = write_csv(tmp_path / "people.csv", organisation(100))
    before = User.objects.count()
    dry = run(str(file))
    assert "100 to create, 0 to update, 0 rejected." in dry and "Dry run" in dry
    assert User.objects.count() == before and not Team.objects.exists() and not OutgoingEmail.objects.exists()

    committed = run(str(file), "--commit")
    assert "100 created, 0 updated, 0 rejected." in committed
    assert User.objects.filter(username__startswith="agent").count() == 100
    assert Team.objects.count() == 3 and Membership.objects.count() == 100
    lead = User.objects.get(username="agent025")
    assert lead.get_full_name() == "Agent25 Zhang" and lead.groups.get().name == "Team leads"
    assert User.objects.get(username="agent099").is_staff
    links = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.PASSWORD_LINK)
    assert links.count() == 100 and "https://crm.example.com/accounts/reset/" in links[0].body

    again = run(str(file), "--commit")  # the same file again updates, creates nothing, sends nothing
    assert "0 created, 100 updated, 0 rejected." in again and links.count() == 100


def test_bad_rows_are_rejected_alone_and_xlsx_is_read(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(["good1", "Good One", "good1@example.com", "sales", "East"])
    sheet.append(["bad role", "Bad Role", "bad@example.com", "king", "East"])
    sheet.append(["", "No Name", "none@example.com", "sales", ""])
    sheet.append(["nomail", "No Mail", "", "sales", ""])
    path = tmp_path / "people.xlsx"
    book.save(path)
    out = run(str(path), "--commit")
    assert "1 created, 0 updated, 3 rejected." in out
    assert "is no role" in out and "needs a username" in out
    assert list(
        User.objects.filter(username__in=["good1", "bad role", "nomail"]).values_list("username", flat=True)
    ) == ["good1"]
