"""History change reasons were stored as sentences in the actor's language ("Payment recorded",
"已登记收款", "Merged into customer #12"); they become the codes of crm/history.py, with their
parameters, so that each reader sees them in their own language. A reason that is no known
sentence (a note someone typed) stays as it was: it is shown as typed.

The mapping is frozen here, as the sentences were when they were stored, in English and 简体中文.
"""

import json
from typing import Any
import re

from django.db import migrations

# Sentences without parameters, in both languages, and their codes.
PLAIN = {
    "Owner reassigned": "owner_reassigned",
    "已更换负责人": "owner_reassigned",
    "Lines changed": "lines_changed",
    "订单行已修改": "lines_changed",
    "Payment recorded": "payment_recorded",
    "已登记收款": "payment_recorded",
    "Refund recorded": "refund_recorded",
    "已登记退款": "refund_recorded",
    "Reopened": "reopened",
    "已重新打开": "reopened",
    "Rescheduled": "rescheduled",
    "已改期": "rescheduled",
    "Reassigned": "reassigned",
    "已改派": "reassigned",
    "Completed": "completed",
    "已完成": "completed",
    "Cancelled": "cancelled",
    "已取消": "cancelled",
}
# Sentences with parameters: the pattern, the code, and how each group is read.
PATTERNS = [
    (re.compile(r"^Merged into customer #(?P<customer>\d+)$"), "merged_into"),
    (re.compile(r"^已合并到客户 #(?P<customer>\d+)$"), "merged_into"),
    (re.compile(r"^Merged customer #(?P<customer>\d+) “(?P<name>.*)” into this one$", re.S), "merged_from"),
    (re.compile(r"^已将客户 #(?P<customer>\d+)“(?P<name>.*)”合并到本客户$", re.S), "merged_from"),
    (re.compile(r"^Won: order (?P<order_number>\S+)$"), "won"),
    (re.compile(r"^赢单：订单 (?P<order_number>\S+)$"), "won"),
]
HISTORICAL_MODELS = [
    ("customers", "HistoricalCustomer"),
    ("customers", "HistoricalNeed"),
    ("followups", "HistoricalCommunication"),
    ("followups", "HistoricalFollowUp"),
    ("orders", "HistoricalOrder"),
    ("orders", "HistoricalProduct"),
    ("opportunities", "HistoricalOpportunity"),
    ("opportunities", "HistoricalScoringWeights"),
]


def encode(code: str, **parameters: Any) -> str:
    """As crm.history.change_reason stores a code."""
    if not parameters:
        return code
    return json.dumps({"code": code, **parameters}, ensure_ascii=False, sort_keys=True)


def convert_change_reason(text: str | None) -> str | None:
    """The code a stored sentence becomes, or the text unchanged when it is no sentence of ours."""
    if not text:
        return text
    stripped = text.strip()
    if stripped in PLAIN:
        return PLAIN[stripped]
    for pattern, code in PATTERNS:
        match = pattern.match(stripped)
        if match:
            parameters = match.groupdict()
            if "customer" in parameters:
                parameters["customer"] = int(parameters["customer"])
            return encode(code, **parameters)
    return text


def forwards(apps: Any, schema_editor: Any) -> None:
    for app_label, model_name in HISTORICAL_MODELS:
        records = apps.get_model(app_label, model_name).objects
        stored = records.exclude(history_change_reason__isnull=True).exclude(history_change_reason="")
        for text in list(stored.values_list("history_change_reason", flat=True).distinct()):
            code = convert_change_reason(text)
            if code != text:
                records.filter(history_change_reason=text).update(history_change_reason=code)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_roles"),
        ("customers", "0004_history_of_contacts_and_reason_codes"),
        ("followups", "0004_change_reason_codes"),
        ("orders", "0003_typed_events_and_line_history"),
        ("opportunities", "0005_typed_events"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
