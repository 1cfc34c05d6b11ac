"""User import from CSV and XLSX files (reading and column mapping: crm/importing.py), for operations
adding a sales organisation at once: `manage.py import_users FILE [--commit]`.

Columns: username, full name, e-mail, role (sales, team lead, manager; 销售, 组长, 经理) and team (by
name; a team not there yet is created). A row whose username exists updates that user; any other row
creates one, who gets the link to set a password by e-mail once the import is committed. Every row goes
through the account services in a savepoint, so a rejected row leaves nothing behind and never stops
the others. A dry run (the default) is the same run rolled back: no user, team or e-mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import services
from accounts.models import Team
from crm.importing import (
    Action,
    Columns,
    ImportField,
    ImportReport,
    Row,
    RowRejected,
    RowResult,
    Table,
    require_columns,
)
from crm.roles import MANAGERS, SALES, TEAM_LEADS

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

COLUMNS = Columns(
    (
        ImportField("username", gettext_lazy("Username"), ("login", "user", "用户名", "账号", "登录名")),
        ImportField("full_name", gettext_lazy("Full name"), ("name", "姓名", "名字", "全名")),
        ImportField("email", gettext_lazy("E-mail"), ("email address", "mail", "邮箱", "电子邮件", "邮件")),
        ImportField("role", gettext_lazy("Role"), ("group", "角色", "职位")),
        ImportField("team", gettext_lazy("Team"), ("office", "团队", "小组", "部门")),
    )
)
ROLE_WORDS = {
    SALES: {"sales", "salesperson", "agent", "销售", "销售员", "业务员"},
    TEAM_LEADS: {"team lead", "team leads", "lead", "leader", "组长", "团队负责人", "主管"},
    MANAGERS: {"manager", "managers", "经理", "销售经理"},
}


def run_import(*, actor: User | None, table: Table, mapping: Sequence[str], commit: bool) -> ImportReport:
    """Apply every row as `actor` (a manager, or the system); without `commit`, roll it all back."""
    COLUMNS.check(mapping)
    require_columns(COLUMNS, table.headers, mapping, ("username",))
    with transaction.atomic():
        results = [_import_row(actor, row, COLUMNS.values(row, mapping)) for row in table.rows]
        if not commit:
            transaction.set_rollback(True)
    return ImportReport(results, committed=commit)


def _import_row(actor: User | None, row: Row, values: dict[str, str]) -> RowResult:
    username = values.get("username", "").strip()
    try:
        if not username:
            raise RowRejected(COLUMNS.message("username", _("Every row needs a username.")))
        with transaction.atomic():
            user, action = _save_user(actor, username, values)
    except RowRejected as rejection:
        return RowResult(row.number, Action.REJECT, username, errors=rejection.messages)
    except ValidationError as error:
        return RowResult(row.number, Action.REJECT, username, errors=_messages(error))
    return RowResult(row.number, action, f"{user.get_full_name()} ({user.username})", user.pk)


def _save_user(actor: User | None, username: str, values: dict[str, str]) -> tuple[User, Action]:
    first_name, last_name = _names(values.get("full_name", ""))
    role, team = _role(values.get("role", "")), _team(actor, values.get("team", ""))
    email = values.get("email", "")
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        user = services.update_user(
            actor=actor,
            user=existing,
            username=username,
            first_name=first_name,
            last_name=last_name,
            email=email,
            role=role,
            team=team,
        )
        return user, Action.UPDATE
    user = services.create_user(
        actor=actor,
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=role,
        team=team,
        base_url=settings.SITE_URL,
    )
    return user, Action.CREATE


def _names(full_name: str) -> tuple[str, str]:
    """Given and family name: "Lei Zhang" → Lei, Zhang; a name without a space ("张伟") is kept whole."""
    parts = full_name.split()
    if len(parts) < 2:
        return " ".join(parts), ""
    return " ".join(parts[:-1]), parts[-1]


def _role(text: str) -> str:
    word = " ".join(text.split()).casefold()
    if not word:
        return SALES
    for role, words in ROLE_WORDS.items():
        if word in words or word == role.casefold():
            return role
    raise RowRejected(
        COLUMNS.message(
            "role", _("“%(value)s” is no role: write sales, team lead or manager.") % {"value": text}
        )
    )


def _team(actor: User | None, name: str) -> Team | None:
    name = " ".join(name.split())
    if not name:
        return None
    return Team.objects.filter(name__iexact=name).first() or services.create_team(actor=actor, name=name)


def _messages(error: ValidationError) -> list[StrOrPromise]:
    errors = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    key_of = {"first_name": "full_name", "last_name": "full_name"}
    return [COLUMNS.message(key_of.get(key, key), text) for key, texts in errors.items() for text in texts]
