"""The scale data generator: a few dozen customers, then independent queries check every rule they keep."""

import itertools
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from importlib import import_module
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone, translation

from crm.scale.generate import HISTORY_MODELS, OVERDUE_AT_MOST, PLAIN_MODELS
from crm.scale.writer import indexes_and_foreign_keys_built_after
from customers.models import ContactMethod, Customer
from customers.normalise import normalise_email, normalise_phone
from followups.models import Communication, FollowUp
from opportunities import events as opportunity_events
from opportunities.models import Opportunity, OpportunityEvent, ScoringWeights, Stage
from opportunities.services import value_score
from orders import events as order_events
from orders.models import Order, OrderEvent, OrderLine, Payment, Product, Status
from tests.conftest import POSTGRESQL_ONLY

CUSTOMERS = 40
STEP_EVENTS: dict[str, Callable[..., OrderEvent]] = {
    OrderEvent.Type.CONFIRMED: order_events.order_confirmed,
    OrderEvent.Type.PROCESSING_STARTED: order_events.processing_started,
    OrderEvent.Type.FINISHED: order_events.order_finished,
}
ZERO = Decimal("0.00")


def generate(customers: int = CUSTOMERS, seed: int = 7) -> str:
    out = StringIO()
    options = {"customers": customers, "chunk": 15, "salespeople": 4, "seed": seed, "force": True}
    with translation.override("en"):
        call_command("generate_scale_data", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def generated(db):
    return generate()


def test_ratios_and_progress(generated):
    assert "40 customers" in generated and "rows/s" in generated
    assert Customer.objects.count() == CUSTOMERS
    assert ContactMethod.objects.count() == 2 * CUSTOMERS
    assert Order.objects.count() == 3 * CUSTOMERS
    assert OrderLine.objects.count() == 6 * CUSTOMERS
    assert Communication.objects.count() == 5 * CUSTOMERS
    assert FollowUp.objects.count() == CUSTOMERS
    assert 0.3 * CUSTOMERS <= Opportunity.objects.count() <= 0.9 * CUSTOMERS
    assert 6 * CUSTOMERS <= OrderEvent.objects.count() <= 11 * CUSTOMERS
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == set(Status.values), "every status is represented"
    assert set(FollowUp.objects.values_list("status", flat=True)) == set(FollowUp.Status.values)


def test_order_totals_add_up_from_their_lines_and_payments(generated):
    lines = OrderLine.objects.filter(order=OuterRef("pk")).values("order").annotate(sum=Sum("line_total"))
    paid = Payment.objects.filter(order=OuterRef("pk")).values("order").annotate(sum=Sum("amount"))
    orders = Order.objects.annotate(
        lines_sum=Subquery(lines.values("sum")), paid_sum=Coalesce(Subquery(paid.values("sum")), ZERO)
    )
    for order in orders:
        assert order.subtotal == order.lines_sum
        tax = ((order.subtotal - order.discount) * order.tax_rate / 100).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        assert (order.tax, order.total) == (tax, order.subtotal - order.discount + tax)
        assert order.paid_amount == order.paid_sum
        assert order.balance == order.total - order.paid_amount
        if order.status == Status.FINISHED:
            assert order.balance == ZERO
    assert Product.objects.filter(active=False).exists()
    assert not OrderLine.objects.filter(product__active=False).exists(), "a withdrawn product is never sold"
    for line in OrderLine.objects.all():
        assert line.line_total == line.quantity * line.unit_price - line.discount


def test_each_order_has_the_events_of_the_statuses_it_reached(generated):
    now = timezone.now()
    for order in Order.objects.prefetch_related("events", "payments"):
        kinds = Counter(event.type for event in order.events.all())
        expected = {OrderEvent.Type.CREATED: 1}
        for stamp, kind in (
            ("confirmed_at", OrderEvent.Type.CONFIRMED),
            ("processing_at", OrderEvent.Type.PROCESSING_STARTED),
            ("finished_at", OrderEvent.Type.FINISHED),
            ("closed_at", OrderEvent.Type.CLOSED),
        ):
            if getattr(order, stamp):
                expected[kind] = 1
        if order.payments.all():
            expected[OrderEvent.Type.PAYMENT_RECORDED] = len(order.payments.all())
        assert kinds == expected, order.number
        stamps = [order.created_at, order.confirmed_at, order.processing_at, order.finished_at]
        reached = [stamp for stamp in stamps if stamp]
        assert reached == sorted(reached) and reached[-1] <= now
        assert order.closed_at is None or order.closed_at >= order.created_at


def test_event_parameters_are_what_the_event_functions_write(generated):
    for event in OrderEvent.objects.select_related("order", "actor"):
        order, actor = event.order, event.actor
        if event.type == OrderEvent.Type.PAYMENT_RECORDED:
            payment = Payment.objects.get(pk=event.parameters["payment"], order=order)
            rebuilt = order_events.payment_recorded(order=order, actor=actor, payment=payment, commit=False)
        elif event.type == OrderEvent.Type.CLOSED:
            rebuilt = order_events.order_closed(
                order=order, actor=actor, from_status=event.from_status, commit=False
            )
        elif event.type == OrderEvent.Type.CREATED:
            source = Opportunity.objects.filter(order=order).first()
            rebuilt = order_events.order_created(order=order, actor=actor, opportunity=source, commit=False)
        else:
            function = STEP_EVENTS[event.type]
            rebuilt = function(order=order, actor=actor, commit=False)
        assert (event.parameters, event.from_status, event.to_status) == (
            rebuilt.parameters,
            rebuilt.from_status,
            rebuilt.to_status,
        )
        assert event.at == rebuilt.at or event.type == OrderEvent.Type.PAYMENT_RECORDED


def test_opportunities_have_a_chain_of_stage_events(generated):
    weights = ScoringWeights.current()
    for opportunity in Opportunity.objects.select_related("stage", "order"):
        chain = list(opportunity.events.order_by("at", "id"))
        assert chain[0].type == OpportunityEvent.Type.CREATED and chain[0].from_stage_id is None
        for before, after in itertools.pairwise(chain):
            assert after.from_stage_id == before.to_stage_id and after.at >= before.at
        assert chain[-1].to_stage_id == opportunity.stage_id
        assert chain[-1].at == opportunity.stage_entered_at
        assert opportunity.value_score == value_score(opportunity, weights)
        assert opportunity.probability == opportunity.stage.probability
        if opportunity.stage.kind == Stage.Kind.WON:
            assert opportunity.won_at and opportunity.order and chain[-1].from_stage
            assert opportunity.order.customer_id == opportunity.customer_id
            won = opportunity_events.opportunity_won(
                opportunity=opportunity, actor=None, from_stage=chain[-1].from_stage, commit=False
            )
            assert chain[-1].parameters == won.parameters
            assert opportunity.amount == opportunity.order.subtotal
        else:
            assert opportunity.order is None
        assert (opportunity.stage.kind == Stage.Kind.LOST) == bool(
            opportunity.lost_at and opportunity.lost_reason
        )


def test_follow_ups_are_closed_as_a_team_closes_them(generated):
    """Overdue ones are recent: older ones were done or cancelled, so My day stays a day's work."""
    long_ago = timezone.now() - OVERDUE_AT_MOST - timedelta(days=1)
    assert not FollowUp.objects.filter(status=FollowUp.Status.OPEN, due_at__lt=long_ago).exists()
    done = FollowUp.objects.filter(status=FollowUp.Status.DONE)
    assert not done.filter(completed_at__lt=F("created_at")).exists()
    assert not done.filter(completed_by=None).exists()


def test_every_foreign_key_points_at_a_row(generated):
    written = [*HISTORY_MODELS, *PLAIN_MODELS]
    for model in written + [model.history.model for model in HISTORY_MODELS]:  # type: ignore[attr-defined]
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.ForeignKey):
                continue
            target = field.related_model
            dangling = model._default_manager.exclude(**{f"{field.attname}__isnull": True}).exclude(
                **{f"{field.attname}__in": target._default_manager.values("pk")}
            )
            assert not dangling.exists(), f"{model._meta.label}.{field.name}"


def test_links_and_follow_ups_stay_with_their_customer(generated):
    for model in (Communication, FollowUp):
        assert not model.objects.exclude(order=None).exclude(order__customer=F("customer")).exists()
        assert (
            not model.objects.exclude(opportunity=None).exclude(opportunity__customer=F("customer")).exists()
        )
    assert not FollowUp.objects.exclude(assignee=F("customer__owner")).exists()
    assert not Order.objects.exclude(owner=F("customer__owner")).exists()
    assert not Order.objects.filter(created_at__lt=F("customer__created_at")).exists()
    assert not Communication.objects.filter(occurred_at__lt=F("customer__created_at")).exists()


def test_every_record_has_its_creation_in_the_history(generated):
    for model in HISTORY_MODELS:
        history = model.history.model  # type: ignore[attr-defined]
        assert history.objects.count() == model._default_manager.count(), model._meta.label
        assert set(history.objects.values_list("id", flat=True)) == set(
            model._default_manager.values_list("pk", flat=True)
        )
        assert set(history.objects.values_list("history_type", flat=True)) == {"+"}
    customer = Customer.objects.first()
    assert customer is not None
    assert customer.history.get().history_date == customer.created_at


def test_contact_values_are_in_normal_form(generated):
    for method in ContactMethod.objects.all():
        normalise = normalise_phone if method.is_phone else normalise_email
        assert normalise(method.value) == method.value


def test_last_activity_is_the_latest_record_of_each_customer(generated):
    """Computed here from the raw rows, apart from customers.activity."""
    for customer in Customer.objects.all():
        times = [customer.created_at]
        times += Communication.objects.filter(customer=customer).values_list("occurred_at", flat=True)
        times += OrderEvent.objects.filter(order__customer=customer).values_list("at", flat=True)
        times += OpportunityEvent.objects.filter(opportunity__customer=customer).values_list("at", flat=True)
        assert customer.last_activity_at == max(times), customer.pk


def test_the_rules_of_the_data_hold(generated):
    out = StringIO()
    call_command("check_data", stdout=out)  # raises CommandError on a broken rule
    assert "rules hold" in out.getvalue() or "规则均满足" in out.getvalue()


def test_ids_go_on_after_the_generated_rows(generated):
    customer = Customer.objects.create(name="After", owner=Customer.objects.first().owner)  # type: ignore[union-attr]
    assert customer.pk == Customer.objects.exclude(pk=customer.pk).order_by("-pk").first().pk + 1  # type: ignore[union-attr]


def _fingerprint():
    return [
        list(Customer.objects.order_by("pk").values_list("name", "owner__username", "created_at")),
        list(Order.objects.order_by("pk").values_list("number", "status", "total", "created_at")),
        list(OrderEvent.objects.order_by("pk").values_list("type", "at", "parameters")),
        list(FollowUp.objects.order_by("pk").values_list("status", "due_at", "subject")),
    ]


def test_the_same_seed_makes_the_same_data(db):
    with transaction.atomic():
        generate(12, seed=3)
        first = _fingerprint()
        transaction.set_rollback(True)
    generate(12, seed=3)
    assert _fingerprint() == first
    with transaction.atomic():
        generate(12, seed=4)
        assert _fingerprint() != first
        transaction.set_rollback(True)


def test_refuses_without_debug_unless_forced(db, settings, english):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("generate_scale_data", customers=2, stdout=StringIO())
    assert not Customer.objects.exists()
    call_command("generate_scale_data", customers=2, force=True, stdout=StringIO())
    assert Customer.objects.count() == 2


def test_says_it_in_chinese_too(db):
    out = StringIO()
    with translation.override("zh-hans"):
        call_command("generate_scale_data", customers=3, force=True, stdout=out)
    assert "3 个客户" in out.getvalue() and "完成" in out.getvalue()


@pytest.mark.parametrize(
    "option", [{"customers": 0}, {"customers": 3, "chunk": 0}, {"customers": 3, "salespeople": 1}]
)
def test_refuses_bad_numbers(db, option):
    with pytest.raises(CommandError):
        call_command("generate_scale_data", stdout=StringIO(), force=True, **option)
    assert not Customer.objects.exists()


@POSTGRESQL_ONLY
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_thread_writes_while_the_next_chunk_is_built():
    """The way the command runs for real on PostgreSQL: chunks committed by a background thread."""
    # A transactional test before this one may have flushed the stages the data migration installs.
    import_module("opportunities.migrations.0002_default_stages").create(apps, None)
    indexes = _indexes()
    assert {"customer_name_grams", "contact_method_value_trgm", "order_owner_idx"} <= set(indexes)
    output = generate(31)
    assert "31 customers" in output and "database" in output  # the server's CPU was read
    assert _indexes() == indexes, "the indexes are built again as they were"
    assert Customer.objects.count() == 31 and Order.objects.count() == 93
    assert Customer.history.count() == 31
    call_command("check_data", stdout=StringIO())
    after = Order.objects.order_by("-pk").first()
    assert after is not None
    customer = Customer.objects.create(name="After", owner=after.owner)
    assert customer.pk == 32


def _indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()")
        return dict(cursor.fetchall())


def _foreign_keys() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
        )
        return dict(cursor.fetchall())


def _order_foreign_keys(foreign_keys: dict[str, str]) -> set[str]:
    return {name for name in foreign_keys if name.startswith("orders_order_")}


@POSTGRESQL_ONLY
def test_indexes_and_foreign_keys_come_back_when_the_writing_fails(db):
    indexes, foreign_keys = _indexes(), _foreign_keys()
    assert len(_order_foreign_keys(foreign_keys)) >= 2  # the customer, the owner
    with pytest.raises(RuntimeError), indexes_and_foreign_keys_built_after([Customer, Order]):
        during = _indexes()
        assert not {"customer_name_grams", "order_number_trgm", "order_owner_idx"} & set(during)
        assert {"customers_customer_pkey", "orders_order_number_key"} <= set(during), "what enforces stays"
        assert "contact_method_value_trgm" in during, "another table's indexes stay"
        assert not _order_foreign_keys(_foreign_keys())
        raise RuntimeError("the writing failed")
    assert _indexes() == indexes
    assert _foreign_keys() == foreign_keys


@POSTGRESQL_ONLY
def test_a_row_pointing_nowhere_fails_when_its_foreign_key_returns(sales1):
    customer = Customer.objects.create(name="Only", owner=sales1)
    with (
        pytest.raises(IntegrityError),
        indexes_and_foreign_keys_built_after([Customer]),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE customers_customer SET owner_id = -5 WHERE id = %s", [customer.pk])
