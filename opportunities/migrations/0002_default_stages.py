"""The default sales process and the default value-score weights.

capture → qualify (enrich the data) → evaluate → demo/meeting scheduled → decision → won / lost.
Managers rename, reorder and add stages in the admin afterwards.
"""

from decimal import Decimal

from django.db import migrations

STAGES = [
    # code, English, 简体中文, default win probability, kind
    ("capture", "Capture", "获取线索", 10, "open"),
    ("qualify", "Qualify", "资格确认", 20, "open"),
    ("evaluate", "Evaluate", "需求评估", 40, "open"),
    ("demo_scheduled", "Demo scheduled", "已约演示", 60, "open"),
    ("decision", "Decision", "商务决策", 80, "open"),
    ("won", "Won", "赢单", 100, "won"),
    ("lost", "Lost", "输单", 0, "lost"),
]


def create(apps, schema_editor):
    Stage = apps.get_model("opportunities", "Stage")
    for position, (code, name_en, name_zh_hans, probability, kind) in enumerate(STAGES, start=1):
        Stage.objects.update_or_create(
            code=code,
            defaults={
                "name_en": name_en,
                "name_zh_hans": name_zh_hans,
                "position": position * 10,
                "probability": probability,
                "kind": kind,
            },
        )
    ScoringWeights = apps.get_model("opportunities", "ScoringWeights")
    ScoringWeights.objects.get_or_create(
        pk=1,
        defaults={
            "segmentation": Decimal("0.30"),
            "characteristics": Decimal("0.20"),
            "relationship": Decimal("0.30"),
            "resources": Decimal("0.20"),
        },
    )


def remove(apps, schema_editor):
    apps.get_model("opportunities", "Stage").objects.filter(code__in=[s[0] for s in STAGES]).delete()


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
