"""Scale data: as many customers as asked, each with the records a busy CRM keeps, at bulk speed.

Per customer, on average: 2 contact methods (a mobile in E.164, a lower-case email), 3 orders of 2 lines
(totals from `orders.services.compute_totals`, stamps for each status reached, one event per step and
per payment, an invoice number once finished), 5 communications, 1 follow-up (done, cancelled, overdue
or coming), 0.6 opportunities with an event per stage entered (a won one linked to the order it became).
Every record gets the creation row of its field history, dated when it was made (as the demo data does:
the row holds the record as generated). Owners are the demo users and `--salespeople` more sales users.

Rows are built as plain dicts, never model instances, and written by `crm.scale.writer` (COPY on
PostgreSQL) in chunks of customers, one transaction each, so the database checks every constraint.
Everything comes from random generators seeded with the seed and the chunk's number, and every date is
counted back from midnight (site time) of the day it runs: the same seed on the same day makes the
same data. The event parameters follow `orders/events.py` and `opportunities/events.py` (the tests
compare them with what those functions write).
"""

from __future__ import annotations

import os
import random
import time as time_module
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection, connections, models, transaction
from django.utils import timezone, translation

from crm.demo import seed_users
from crm.roles import SALES
from crm.scale import words
from crm.scale.writer import TableWriter, analyze, indexes_and_foreign_keys_built_after, reset_sequences
from customers.models import ContactMethod, Customer
from followups.models import Communication, FollowUp
from opportunities.models import Opportunity, OpportunityEvent, ScoringWeights, Stage
from orders.models import (
    DocumentCounter,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentMethod,
    Product,
    Status,
)
from summaries.upkeep import rebuild as rebuild_summaries

CENT = Decimal("0.01")
HISTORY_DAYS = 730  # customers arrive over the last two years…
QUIET_DAYS = 20  # …the last of them this many days ago
ORDERS_PER_CUSTOMER, LINES_PER_ORDER, COMMUNICATIONS_PER_CUSTOMER = 3, 2, 5
OPPORTUNITY_SHARE = 0.6
# Where an order's life ends, out of 100 (stopped earlier when its next step would be in the future).
ORDER_OUTCOMES = [
    (Status.CREATED, 28),
    (Status.CONFIRMED, 20),
    (Status.PROCESSING, 15),
    (Status.FINISHED, 27),
]
CLOSED_SHARE = 10
DEPOSIT_SHARE = 0.3
WON_SHARE, LOST_SHARE = 0.25, 0.2
OVERDUE_AT_MOST = timedelta(days=20)  # a follow-up due longer ago than this is done or cancelled
HISTORY_MODELS: list[type[models.Model]] = [
    ContactMethod,
    Customer,
    Order,
    OrderLine,
    Communication,
    FollowUp,
]
HISTORY_MODELS.append(Opportunity)
# Enum `.values` builds a new list on every read: read once.
LIFECYCLES, SOURCES = Customer.Lifecycle.values, Customer.Source.values
INDUSTRIES, SIZES = Customer.Industry.values, Customer.Size.values
PAYMENT_METHODS, PRIORITIES = PaymentMethod.values, FollowUp.Priority.values
CHANNELS, DIRECTIONS = Communication.Channel.values, Communication.Direction.values
PLAIN_MODELS: list[type[models.Model]] = [Payment, OrderEvent, OpportunityEvent]


@dataclass
class Catalogue:
    """What the generated records refer to and that exists before them."""

    products: list[tuple[int, str, Decimal]]
    open_stages: list[Stage]
    won: Stage
    lost: Stage
    weights: dict[str, Decimal]
    manager: int
    owners: list[int]  # the sales users, each as likely as the other
    approval_limit: Decimal = field(default_factory=lambda: Decimal(settings.ORDER_APPROVAL_LIMIT))


class Tables:
    """One writer per table written, the history tables included."""

    def __init__(self) -> None:
        self.writers: dict[type[models.Model], TableWriter] = {}
        # A model's history writer (reading `Model.history` makes a manager each time: once here).
        self.histories: dict[type[models.Model], TableWriter] = {}
        for model in [*HISTORY_MODELS, *PLAIN_MODELS]:
            self.writers[model] = TableWriter(model)
        for model in HISTORY_MODELS:
            history = model.history.model  # type: ignore[attr-defined]
            self.writers[history] = self.histories[model] = TableWriter(history)

    def __getitem__(self, model: type[models.Model]) -> TableWriter:
        return self.writers[model]

    def add(
        self, model: type[models.Model], row: dict[str, Any], *, at: datetime, user: int | None
    ) -> dict[str, Any]:
        """Adds a record, and its creation row of history when the model keeps history."""
        self.writers[model].add(row)
        history = self.histories.get(model)
        if history is not None:
            history.add(
                {
                    **row,
                    "history_date": at,
                    "history_type": "+",
                    "history_change_reason": None,
                    "history_user_id": user,
                }
            )
        return row

    def take(self) -> list[tuple[TableWriter, list[dict[str, Any]]]]:
        return [(writer, writer.take()) for writer in self.writers.values()]

    def counts(self) -> dict[str, int]:
        return {writer.model._meta.label: writer.written for writer in self.writers.values()}


@dataclass
class Progress:
    customers: int
    rows: int
    seconds: float
    # CPU seconds used so far by this process (building the rows) and by the database server process
    # that writes them (PostgreSQL on this machine only, else None): on a shared machine they tell
    # what the run would take on cores of its own.
    cpu: float = 0.0
    server_cpu: float | None = None

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def catalogue(salespeople: int) -> Catalogue:
    """The users, products, stages and weights the records use; made here when missing."""
    users = seed_users()
    sales = [users["sales1"], users["sales2"], *_more_salespeople(salespeople - 2)]
    if not Product.objects.exists():
        from orders.demo import INACTIVE_SKUS, PRODUCTS
        from orders.services import create_product

        for sku, name, series, price in PRODUCTS:
            active = sku not in INACTIVE_SKUS
            create_product(
                actor=None, sku=sku, name=name, series=series, unit_price=Decimal(price), active=active
            )
    stages = list(Stage.objects.order_by("position", "id"))
    return Catalogue(
        products=list(
            Product.objects.filter(active=True).order_by("sku").values_list("pk", "name", "unit_price")
        ),
        open_stages=[stage for stage in stages if stage.kind == Stage.Kind.OPEN],
        won=next(stage for stage in stages if stage.kind == Stage.Kind.WON),
        lost=next(stage for stage in stages if stage.kind == Stage.Kind.LOST),
        weights=ScoringWeights.current().as_dict(),
        manager=users["manager"].pk,
        owners=[user.pk for user in sales],
    )


def _more_salespeople(count: int) -> list[User]:
    group = Group.objects.get(name=SALES)
    made = []
    for number in range(3, count + 3):
        user, created = User.objects.get_or_create(
            username=f"sales{number}", defaults={"first_name": "Sales", "last_name": f"{number:02d}"}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(group)
        made.append(user)
    return made


def generate(
    customers: int,
    *,
    seed: int = 17,
    chunk: int = 2000,
    salespeople: int = 20,
    report: Callable[[Progress], None] = lambda progress: None,
) -> dict[str, int]:
    """Writes `customers` customers with their records; returns the rows written per table."""
    with transaction.atomic():
        context = catalogue(salespeople)
    now = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    tables = Tables()
    counters = {(c.kind, c.year): c.last for c in DocumentCounter.objects.all()}
    clock, rows = _Clock(), 0

    language = translation.get_language()

    def write(batch: Batch, counters: dict[tuple[str, int], int], done: int) -> None:
        nonlocal rows
        clock.track_server()
        with transaction.atomic():
            rows += sum(writer.write(part) for writer, part in batch)
            _save_counters(counters)
        with translation.override(language):  # the caller's, also in the writing thread
            report(Progress(done, rows, clock.seconds(), clock.cpu(), clock.server_cpu()))

    written = [*tables.writers]
    background = _may_write_in_background()
    with indexes_and_foreign_keys_built_after(written), _Writing(background=background) as writing:
        for first in range(0, customers, chunk):
            builder = Builder(random.Random(f"{seed}:{first}"), context, tables, now, counters, customers)
            for index in range(first, min(first + chunk, customers)):
                builder.customer(index)
            writing.submit(write, tables.take(), dict(counters), min(first + chunk, customers))
    reset_sequences(written)
    rebuild_summaries()  # the rows were inserted in bulk, around the services that keep the summaries
    analyze(written)
    return tables.counts()


Batch = list[tuple[TableWriter, list[dict[str, Any]]]]


def _may_write_in_background() -> bool:
    """On PostgreSQL, outside a transaction (a test's, say), a thread with its own connection writes one
    chunk while the next is built: Python and the database server each keep a core busy."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


class _Writing:
    """Runs the writes in order, in one background thread or here; at most one chunk waits to be written."""

    def __init__(self, *, background: bool) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1) if background else None
        self.pending: Future[None] | None = None

    def __enter__(self) -> _Writing:
        return self

    def submit(self, function: Callable[..., None], *arguments: Any) -> None:
        if self.executor is None:
            function(*arguments)
            return
        self.wait()
        self.pending = self.executor.submit(function, *arguments)

    def wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()  # raises what the write raised

    def __exit__(self, *exc_info: object) -> None:
        if self.executor is None:
            return
        try:
            self.wait()
        finally:
            self.executor.submit(connections.close_all).result()
            self.executor.shutdown()


class _Clock:
    def __init__(self) -> None:
        self.start, self.start_cpu = time_module.perf_counter(), time_module.process_time()
        self.server: tuple[int, float] | None = None

    def seconds(self) -> float:
        return time_module.perf_counter() - self.start

    def cpu(self) -> float:
        return time_module.process_time() - self.start_cpu

    def track_server(self) -> None:
        """Starts counting the CPU of the server process behind this thread's connection (PostgreSQL)."""
        if self.server is None and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                (pid,) = cursor.fetchone()
            self.server = (pid, _process_cpu(pid) or 0.0)

    def server_cpu(self) -> float | None:
        """CPU seconds of the server process behind the writing connection, since its first chunk."""
        if self.server is None:
            return None
        used = _process_cpu(self.server[0])
        return None if used is None else used - self.server[1]


def _process_cpu(pid: int) -> float | None:
    """User and system CPU seconds of a process of this machine (Linux), or None when unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _save_counters(counters: dict[tuple[str, int], int]) -> None:
    for (kind, year), last in counters.items():
        DocumentCounter.objects.update_or_create(kind=kind, year=year, defaults={"last": last})


class Builder:
    """Makes one customer's rows at a time, from one random generator."""

    def __init__(
        self,
        rng: random.Random,
        context: Catalogue,
        tables: Tables,
        now: datetime,
        counters: dict[tuple[str, int], int],
        total: int,
    ) -> None:
        self.rng, self.context, self.tables, self.now = rng, context, tables, now
        self.counters, self.total = counters, total
        self.zone = timezone.get_current_timezone()
        self.activity: list[datetime] = []  # when each event of the customer being built happened

    def customer(self, index: int) -> None:
        rng = self.rng
        owner = self.context.manager if rng.random() < 0.05 else rng.choice(self.context.owners)
        span = timedelta(days=HISTORY_DAYS - QUIET_DAYS)
        created = self.now - timedelta(days=HISTORY_DAYS) + span * (index + rng.random()) / self.total
        chinese = rng.random() < 0.7
        self.activity = []
        row = self.tables.add(
            Customer, self._customer_fields(rng, owner, created, chinese), at=created, user=owner
        )
        self._contact_methods(row, created)
        opportunity = self._opportunity(row, created) if rng.random() < OPPORTUNITY_SHARE else None
        won = opportunity if opportunity is not None and opportunity["won_at"] is not None else None
        orders = [
            self._order(row, created, won if number == 0 else None) for number in range(ORDERS_PER_CUSTOMER)
        ]
        self._conversations(row, created, chinese, orders, opportunity)
        row["last_activity_at"] = max([created, *self.activity])

    # Customers

    def _customer_fields(
        self, rng: random.Random, owner: int, created: datetime, chinese: bool
    ) -> dict[str, Any]:
        person = rng.random() < 0.25
        fields: dict[str, Any] = {
            "name": words.person_name(rng, chinese) if person else words.company_name(rng, chinese),
            "kind": Customer.Kind.PERSON if person else Customer.Kind.ORGANISATION,
            "owner_id": owner,
            "lifecycle_stage": rng.choices(LIFECYCLES, weights=[20, 25, 35, 12, 8])[0],
            "source": rng.choice(SOURCES),
            "industry": "" if person else rng.choice(INDUSTRIES),
            "size": "" if person else rng.choice(SIZES),
            "region": rng.choice(words.REGIONS),
            "address": words.address(rng, chinese),
            "created_at": created,
            "updated_at": created,
        }
        if person:
            fields["gender"] = rng.choice([Customer.Gender.FEMALE, Customer.Gender.MALE])
            fields["birth_date"] = date(1960, 1, 1) + timedelta(days=rng.randrange(40 * 365))
        return fields

    def _contact_methods(self, customer: dict[str, Any], created: datetime) -> None:
        rng, pk = self.rng, customer["id"]
        mobile = f"+86{rng.choice(words.MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
        email = f"contact{pk}@{rng.choice(words.MAIL_DOMAINS)}"
        for kind, value in ((ContactMethod.Type.MOBILE, mobile), (ContactMethod.Type.EMAIL, email)):
            row = {"customer_id": pk, "type": kind, "value": value, "is_primary": True}
            self.tables.add(ContactMethod, row, at=created, user=customer["owner_id"])

    # Orders

    def _order(
        self, customer: dict[str, Any], since: datetime, opportunity: dict[str, Any] | None
    ) -> dict[str, Any]:
        rng, owner = self.rng, customer["owner_id"]
        order_id = self.tables[Order].new_id()
        if opportunity is not None:  # the order a won opportunity became
            created = opportunity["won_at"] + timedelta(minutes=1)
        else:
            created = since + (self.now - since) * rng.uniform(0.02, 0.98)
        lines = [self._line(order_id, position) for position in range(LINES_PER_ORDER)]
        subtotal = sum((line["line_total"] for line in lines), Decimal(0))
        discount = (
            Decimal(0) if opportunity else (subtotal * rng.choice([0, 0, 0, 2, 5]) / 100).quantize(CENT)
        )
        tax_rate = Decimal(13) if rng.random() < 0.85 else Decimal(0)
        tax = ((subtotal - discount) * tax_rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        order: dict[str, Any] = {
            "id": order_id,
            "number": self._number("SO", created),
            "customer_id": customer["id"],
            "owner_id": owner,
            "status": Status.CREATED,
            "currency": "CNY",
            "subtotal": subtotal,
            "discount": discount,
            "tax_rate": tax_rate,
            "tax": tax,
            "total": subtotal - discount + tax,
            "paid_amount": Decimal(0),
            "payment_method": rng.choice(PAYMENT_METHODS),
            "shipping_address": customer["address"],
            "created_at": created,
        }
        steps: list[tuple[str, dict[str, Any], datetime]] = []
        payments: list[dict[str, Any]] = []
        self._walk(order, steps, payments)
        order["balance"] = order["total"] - order["paid_amount"]
        order["updated_at"] = max(
            [created, *(at for _type, _params, at in steps), *(p["paid_at"] for p in payments)]
        )
        self.tables.add(Order, order, at=created, user=owner)
        for line in lines:
            self.tables.add(OrderLine, line, at=created, user=owner)
        created_parameters = (
            {"opportunity": {"id": opportunity["id"], "title": opportunity["title"]}} if opportunity else {}
        )
        self._event(order, OrderEvent.Type.CREATED, created, owner, "", Status.CREATED, created_parameters)
        for kind, parameters, at in steps:
            self._step_event(order, kind, parameters, at)
        for payment in payments:
            self._payment(order, payment)
        return order

    def _line(self, order_id: int, position: int) -> dict[str, Any]:
        rng = self.rng
        product_id, name, price = rng.choice(self.context.products)
        quantity = rng.choice([1, 1, 2, 3, 5, 10, 20]) if price < 5000 else rng.choice([1, 1, 1, 2, 3])
        discount = (price * quantity * Decimal("0.05")).quantize(CENT) if rng.random() < 0.2 else Decimal(0)
        return {
            "order_id": order_id,
            "position": position,
            "product_id": product_id,
            "description": name,
            "quantity": quantity,
            "unit_price": price,
            "discount": discount,
            "line_total": quantity * price - discount,
        }

    def _walk(self, order: dict[str, Any], steps: list, payments: list) -> None:
        """Moves the order on to where its life ends, each step stamped and recorded, as the services do."""
        rng, at = self.rng, order["created_at"]
        goal = rng.choices(
            [status for status, _ in ORDER_OUTCOMES], [weight for _, weight in ORDER_OUTCOMES]
        )[0]
        closing = rng.randrange(100) < CLOSED_SHARE
        plan = [
            (Status.CONFIRMED, "confirmed_at", timedelta(hours=rng.uniform(0.5, 96))),
            (Status.PROCESSING, "processing_at", timedelta(hours=rng.uniform(2, 24 * 7))),
            (Status.FINISHED, "finished_at", timedelta(days=rng.uniform(1, 21))),
        ]
        reached = Status.CREATED
        for target, stamp, delay in plan:
            if reached == goal or at + delay > self.now:
                break
            at += delay
            if target == Status.FINISHED:
                self._pay(
                    order,
                    payments,
                    at - timedelta(hours=rng.uniform(0, 1)),
                    order["total"] - order["paid_amount"],
                )
            order[stamp] = at
            steps.append((target, self._step_parameters(order, target, at), at))
            reached = target
            if target == Status.CONFIRMED and goal != Status.CONFIRMED and rng.random() < DEPOSIT_SHARE:
                self._pay(
                    order,
                    payments,
                    at + timedelta(minutes=30),
                    (order["total"] * Decimal("0.3")).quantize(CENT),
                )
        order["status"] = reached
        if closing and reached in (Status.CREATED, Status.CONFIRMED) and not order["paid_amount"]:
            closed = min(at + timedelta(hours=rng.uniform(1, 240)), self.now - timedelta(minutes=1))
            order.update(status=Status.CLOSED, closed_at=closed, close_reason=rng.choice(words.CLOSE_REASONS))
            steps.append((Status.CLOSED, {"reason": order["close_reason"], "from_status": reached}, closed))

    def _step_parameters(self, order: dict[str, Any], target: str, at: datetime) -> dict[str, Any]:
        rng = self.rng
        if target == Status.PROCESSING:
            order["carrier"] = rng.choice(words.CARRIERS)
            order["tracking_number"] = f"{rng.choice(['SF', 'JD', 'DB'])}{rng.randrange(10**11, 10**12)}"
            return {"carrier": order["carrier"], "tracking_number": order["tracking_number"]}
        if target == Status.FINISHED:
            order["invoice_number"] = self._number("INV", at)
            return {"invoice_number": order["invoice_number"]}
        return {}

    def _pay(self, order: dict[str, Any], payments: list, at: datetime, amount: Decimal) -> None:
        if amount <= 0 or at > self.now:
            return
        order["paid_amount"] += amount
        payments.append(
            {
                "id": self.tables[Payment].new_id(),
                "order_id": order["id"],
                "amount": amount,
                "method": order["payment_method"],
                "paid_at": at,
                "reference": f"TX{self.rng.randrange(10**9, 10**10)}",
                "recorded_by_id": order["owner_id"],
                "recorded_at": at,
            }
        )

    def _payment(self, order: dict[str, Any], payment: dict[str, Any]) -> None:
        self.tables[Payment].add(payment)
        parameters = {
            "payment": payment["id"],
            "amount": str(payment["amount"].quantize(CENT)),
            "currency": order["currency"],
            "method": payment["method"],
            "reference": payment["reference"],
        }
        self._event(
            order, OrderEvent.Type.PAYMENT_RECORDED, payment["paid_at"], order["owner_id"], "", "", parameters
        )

    STEP_TYPES: dict[str, tuple[str, str]] = {
        Status.CONFIRMED: (OrderEvent.Type.CONFIRMED, Status.CREATED),
        Status.PROCESSING: (OrderEvent.Type.PROCESSING_STARTED, Status.CONFIRMED),
        Status.FINISHED: (OrderEvent.Type.FINISHED, Status.PROCESSING),
    }

    def _step_event(
        self, order: dict[str, Any], target: str, parameters: dict[str, Any], at: datetime
    ) -> None:
        actor = order["owner_id"]
        if target == Status.CLOSED:
            parameters = dict(parameters)
            origin = parameters.pop("from_status")
            self._event(order, OrderEvent.Type.CLOSED, at, actor, origin, target, parameters)
            return
        kind, origin = self.STEP_TYPES[target]
        if target == Status.CONFIRMED and order["total"] > self.context.approval_limit:
            actor = self.context.manager
        self._event(order, kind, at, actor, origin, target, parameters)

    def _event(
        self,
        order: dict[str, Any],
        kind: str,
        at: datetime,
        actor: int,
        origin: str,
        target: str,
        parameters: dict,
    ) -> None:
        row = {
            "order_id": order["id"],
            "type": kind,
            "actor_id": actor,
            "at": at,
            "from_status": origin,
            "to_status": target,
            "parameters": parameters,
            "note": "",
        }
        self.tables[OrderEvent].add(row)
        self.activity.append(at)

    def _number(self, kind: str, at: datetime) -> str:
        year = at.astimezone(self.zone).year
        self.counters[kind, year] = self.counters.get((kind, year), 0) + 1
        return f"{kind}-{year}-{self.counters[kind, year]:06d}"

    # Opportunities

    def _opportunity(self, customer: dict[str, Any], since: datetime) -> dict[str, Any]:
        rng, context, owner = self.rng, self.context, customer["owner_id"]
        created = since + (self.now - since) * rng.uniform(0.02, 0.9)
        outcome = rng.random()
        closing = (
            context.won if outcome < WON_SHARE else context.lost if outcome < WON_SHARE + LOST_SHARE else None
        )
        reached = rng.randrange(len(context.open_stages))
        path = [
            context.open_stages[0],
            *(s for s in context.open_stages[1 : reached + 1] if rng.random() < 0.85),
        ]
        path += [closing] if closing else []
        span = (self.now - created).total_seconds()
        offsets = sorted(rng.uniform(0.05, 0.9) * span for _ in path[1:])
        times = [created, *(created + timedelta(seconds=offset) for offset in offsets)]
        stage = path[-1]
        scores = {f"score_{factor}": rng.randrange(20, 101, 5) for factor in Opportunity.SCORE_FACTORS}
        product = rng.choice(context.products)[1]
        row: dict[str, Any] = {
            "id": self.tables[Opportunity].new_id(),
            "customer_id": customer["id"],
            "owner_id": owner,
            "title": words.deal_title(rng, product),
            "stage_id": stage.pk,
            "stage_entered_at": times[-1],
            "amount": Decimal(rng.randrange(5, 400) * 1000),
            "probability": stage.probability,
            "expected_close_date": timezone.localdate(times[-1] + timedelta(days=rng.randint(-15, 90))),
            "source": customer["source"],
            "value_score": self._value_score(scores),
            "won_at": times[-1] if closing is context.won else None,
            "lost_at": times[-1] if closing is context.lost else None,
            "lost_reason": rng.choice(words.LOST_REASONS) if closing is context.lost else "",
            "created_at": created,
            "updated_at": times[-1],
            **scores,
            **self._bant(len(path)),
        }
        row["_path"] = list(zip([None, *path[:-1]], path, times, strict=True))
        return row

    def _value_score(self, scores: dict[str, int]) -> Decimal:
        weights = self.context.weights
        total = sum(weights[factor] * scores[f"score_{factor}"] for factor in Opportunity.SCORE_FACTORS)
        return Decimal(total).quantize(CENT)

    def _bant(self, progress: int) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for item in Opportunity.BANT:
            confirmed = self.rng.random() < 0.15 + 0.15 * progress
            fields[f"{item}_confirmed"] = confirmed
            fields[f"{item}_note"] = self.rng.choice(words.BANT_NOTES) if confirmed else ""
        return fields

    def _save_opportunity(self, row: dict[str, Any], order: dict[str, Any]) -> None:
        path = row.pop("_path")
        if row["won_at"] is not None:
            row["order_id"] = order["id"]
            row["amount"] = order["subtotal"]
        self.tables.add(Opportunity, row, at=row["created_at"], user=row["owner_id"])
        for origin, stage, at in path:
            kind, parameters = self._stage_event(row, origin, stage, order)
            self.tables[OpportunityEvent].add(
                {
                    "opportunity_id": row["id"],
                    "type": kind,
                    "at": at,
                    "actor_id": row["owner_id"],
                    "from_stage_id": origin.pk if origin else None,
                    "to_stage_id": stage.pk,
                    "parameters": parameters,
                    "note": "",
                }
            )
            self.activity.append(at)

    def _stage_event(
        self, row: dict[str, Any], origin: Stage | None, stage: Stage, order: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        if origin is None:
            return OpportunityEvent.Type.CREATED, {}
        if stage is self.context.won:
            return OpportunityEvent.Type.WON, {"order": order["id"], "order_number": order["number"]}
        if stage is self.context.lost:
            return OpportunityEvent.Type.LOST, {"reason": row["lost_reason"]}
        return OpportunityEvent.Type.STAGE_MOVED, {}

    # Conversations

    def _conversations(
        self,
        customer: dict[str, Any],
        since: datetime,
        chinese: bool,
        orders: list[dict[str, Any]],
        opportunity: dict[str, Any] | None,
    ) -> None:
        if opportunity is not None:
            self._save_opportunity(opportunity, orders[0])
        rng, owner = self.rng, customer["owner_id"]
        latest = None
        for _ in range(COMMUNICATIONS_PER_CUSTOMER):
            occurred = since + (self.now - since) * rng.uniform(0.01, 0.99)
            subject, content = rng.choice(words.CONVERSATIONS_ZH if chinese else words.CONVERSATIONS_EN)
            logged = min(occurred + timedelta(minutes=rng.randint(5, 90)), self.now)
            row = {
                "customer_id": customer["id"],
                "channel": rng.choice(CHANNELS),
                "direction": rng.choice(DIRECTIONS),
                "occurred_at": occurred,
                "subject": subject,
                "content": content,
                "outcome": rng.choice(words.OUTCOMES),
                "staff_id": owner,
                "created_at": logged,
                "updated_at": logged,
                **self._links(orders, opportunity, occurred),
            }
            self.tables.add(Communication, row, at=logged, user=owner)
            self.activity.append(occurred)
            if latest is None or occurred > latest["occurred_at"]:
                latest = row
        assert latest is not None
        self._followup(customer, latest, chinese)

    def _links(
        self, orders: list[dict[str, Any]], opportunity: dict[str, Any] | None, moment: datetime
    ) -> dict[str, Any]:
        """Now and then, about one of the customer's orders or its opportunity made before `moment`."""
        rng, links = self.rng, {}
        earlier = [order["id"] for order in orders if order["created_at"] < moment]
        if earlier and rng.random() < 0.35:
            links["order_id"] = rng.choice(earlier)
        if opportunity is not None and opportunity["created_at"] < moment and rng.random() < 0.4:
            links["opportunity_id"] = opportunity["id"]
        return links

    def _followup(self, customer: dict[str, Any], communication: dict[str, Any], chinese: bool) -> None:
        rng, owner = self.rng, customer["owner_id"]
        created = communication["created_at"]
        day = timezone.localtime(created).date() + timedelta(days=rng.randint(1, 10))
        due = timezone.make_aware(
            datetime.combine(day, time(rng.choice([9, 10, 11, 14, 15, 16]), rng.choice([0, 30])))
        )
        row: dict[str, Any] = {
            "customer_id": customer["id"],
            "communication_id": communication["id"],
            "order_id": communication.get("order_id"),
            "opportunity_id": communication.get("opportunity_id"),
            "subject": rng.choice(words.TASKS_ZH if chinese else words.TASKS_EN),
            "due_at": due,
            "assignee_id": owner,
            "priority": rng.choice(PRIORITIES),
            "status": FollowUp.Status.OPEN,
            "created_by_id": owner,
            "created_at": created,
            "updated_at": created,
        }
        chance = rng.random()
        if due < self.now and chance < 0.1:
            row.update(status=FollowUp.Status.CANCELLED, updated_at=due)
        elif due < self.now - timedelta(days=1) and (chance < 0.92 or due < self.now - OVERDUE_AT_MOST):
            completed = max(min(due + timedelta(hours=rng.randint(-6, 24)), self.now), created)
            result = rng.choice(words.RESULTS_ZH if chinese else words.RESULTS_EN)
            row.update(
                status=FollowUp.Status.DONE, completed_at=completed, completed_by_id=owner, result=result
            )
            row["updated_at"] = completed
        self.tables.add(FollowUp, row, at=created, user=owner)
