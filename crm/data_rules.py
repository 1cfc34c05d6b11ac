"""The rules stored rows keep, and the rows that break them (`manage.py check_data`).

The rules are every check constraint the project's models declare, and the bounds of
crm/fields.py for every date, time and integer column of those models, those no constraint
covers included (an integer past its PostgreSQL column is only stored by SQLite). A row breaks a
rule when the database finds the rule's condition false, the test a CHECK constraint makes (an
empty value passes). A database that holds the constraints has no such row unless it was written
around them: data from before the constraints, a restore of old data, an import by SQL, another
program. Only ids are read, so a date that Python cannot hold breaks nothing here.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, models
from django.db.models import Q
from django.db.models.expressions import Expression
from django.db.models.sql import Query

from crm.fields import days_in_range, instants_in_range, integer_in_range

PROJECT_APPS = ("crm", "customers", "orders", "opportunities", "followups")
SAMPLE_SIZE = 10


@dataclass(frozen=True)
class Rule:
    model: type[models.Model]
    name: str
    condition: Q | Expression


@dataclass(frozen=True)
class Breach:
    rule: Rule
    count: int
    sample: list  # the first ids, at most SAMPLE_SIZE


def rules() -> Iterator[Rule]:
    for app_label in PROJECT_APPS:
        for model in apps.get_app_config(app_label).get_models():
            checks = [c for c in model._meta.constraints if isinstance(c, models.CheckConstraint)]
            checked = {name for check in checks for name in _field_names(check.condition)}
            for check in checks:
                if isinstance(check.condition, Q | Expression):  # a lookup is an Expression too
                    yield Rule(model, check.name, check.condition)
            for field in model._meta.concrete_fields:
                condition = _bounds(field)
                if condition is not None and field.attname not in checked:
                    yield Rule(model, f"{field.name}_in_range", condition)


def _field_names(condition):
    """The fields a condition's lookups name (an expression names none here)."""
    for child in getattr(condition, "children", []):
        if isinstance(child, tuple):
            yield child[0].split("__")[0]
        else:
            yield from _field_names(child)


def _bounds(field):
    if isinstance(field, models.DateTimeField):
        return instants_in_range(field.attname)
    if isinstance(field, models.DateField):
        return days_in_range(field.attname)
    if isinstance(field, models.IntegerField) and not isinstance(field, models.AutoField):
        return Q(**{f"{field.attname}__isnull": True}) | integer_in_range(field.attname, type(field))
    return None


def breach(rule: Rule) -> Breach | None:
    """The rows of the rule's table that break it, or None."""
    model = rule.model
    query = Query(model, alias_cols=False)
    condition_sql, params = query.build_where(rule.condition).as_sql(
        query.get_compiler(connection=connection), connection
    )
    quote = connection.ops.quote_name
    pk = quote(str(model._meta.pk.column))
    breaking = f"FROM {quote(model._meta.db_table)} WHERE NOT ({condition_sql})"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) {breaking}", params)
        (count,) = cursor.fetchone()
        if not count:
            return None
        cursor.execute(f"SELECT {pk} {breaking} ORDER BY {pk} LIMIT {SAMPLE_SIZE}", params)
        return Breach(rule, count, [row[0] for row in cursor.fetchall()])


def breaches() -> list[Breach]:
    return [found for rule in rules() if (found := breach(rule))]


class RowsOutOfRange(Exception):
    pass


def refuse_quantities_out_of_range(line_model: type[models.Model]) -> None:
    """For a migration that adds the quantity rule: stops it, naming the lines a person must correct."""
    rule = Rule(line_model, "quantity_in_range", integer_in_range("quantity", models.PositiveIntegerField))
    found = breach(rule)
    if found:
        raise RowsOutOfRange(
            f"{found.count} {line_model._meta.db_table} rows have a quantity above 2147483647 "
            f"(ids {', '.join(map(str, found.sample))}…): correct them, then migrate again."
        )
