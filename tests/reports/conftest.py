"""A small sales history for the report tests, built through the services and then dated: orders in
every status over the first half of 2026 (and around it), deals won, lost and reopened, several owners,
a customer of one salesperson's with an order owned by another, an order in another currency, and
an order finished just after midnight local time on 1 July (still 30 June in UTC).

The tests compare every figure with a computation from the raw rows written in tests/reports/
independent.py, which shares no code with the selectors."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from crm.reporting import Period
from opportunities import services as deal_services
from opportunities.models import Opportunity, OpportunityEvent, Stage
from orders import services as order_services
from orders.models import Order
from summaries.upkeep import count_deals, count_orders, uncount_deals, uncount_orders
from tests.factories import CustomerFactory, ProductFactory
from tests.orders.builders import advance, make_order, order_in

PERIOD = Period(date(2026, 1, 1), date(2026, 6, 30))


def local(year, month, day, hour=10, minute=0):
    return timezone.make_aware(datetime(year, month, day, hour, minute))


def dated(order, **stamps):
    """Sets the order's time stamps (created, confirmed, processing, finished, closed) as given, and
    the summaries with them."""
    orders = Order.objects.filter(pk=order.pk)
    uncount_orders(orders)
    orders.update(**{f"{name}_at": at for name, at in stamps.items()})
    count_orders(orders)
    order.refresh_from_db()
    return order


def dated_deal(deal, *times):
    """Dates the deal's stage events in order (the first is its creation) and its won/lost stamps (and
    the summaries with them)."""
    events = list(OpportunityEvent.objects.filter(opportunity=deal).order_by("at", "pk"))
    assert len(events) == len(times), (len(events), len(times))
    for event, at in zip(events, times, strict=True):
        OpportunityEvent.objects.filter(pk=event.pk).update(at=at)
    deal.refresh_from_db()
    last = events[-1]
    stamps = {"created_at": times[0], "stage_entered_at": times[-1]}
    if deal.won_at:
        assert last.to_stage is not None, "a won deal's latest event moved it to a stage"
        stamps["won_at"] = times[-1] if last.to_stage.kind == Stage.Kind.WON else deal.won_at
    if deal.lost_at:
        stamps["lost_at"] = times[-1]
    deals = Opportunity.objects.filter(pk=deal.pk)
    uncount_deals(deals)
    deals.update(**stamps)
    count_deals(deals)
    deal.refresh_from_db()
    return deal


@dataclass
class Dataset:
    sales1: object
    sales2: object
    manager: object
    customers: dict = field(default_factory=dict)
    products: dict = field(default_factory=dict)
    orders: dict = field(default_factory=dict)
    deals: dict = field(default_factory=dict)


def line(product, quantity, unit_price, discount="0"):
    return {
        "product": product,
        "quantity": quantity,
        "unit_price": Decimal(unit_price),
        "discount": Decimal(discount),
    }


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def stages(db):
    return {stage.code: stage for stage in Stage.objects.all()}


@pytest.fixture
def dataset(sales1, sales2, manager, stages):
    data = Dataset(sales1, sales2, manager)
    vip, key = "VIP", "Key account"
    c = data.customers
    c["c1"] = CustomerFactory(owner=sales1, name="C1", region="上海", industry="manufacturing")
    c["c2"] = CustomerFactory(owner=sales1, name="C2", region="北京", industry="retail")
    c["c3"] = CustomerFactory(owner=sales2, name="C3", region="上海浦东", industry="")
    c["c4"] = CustomerFactory(owner=sales2, name="C4", region="", industry="software")
    c["c1"].tags.create(name=vip)
    c["c1"].tags.add(c["c1"].tags.model.objects.create(name=key))
    c["c2"].tags.add(c["c1"].tags.get(name=vip))
    c["c4"].tags.add(c["c1"].tags.get(name=key))
    p = data.products
    p["sensor"] = ProductFactory(sku="SEN", name="Sensor", unit_price=Decimal("100.10"))
    p["controller"] = ProductFactory(sku="CTL", name="Controller", unit_price=Decimal("250.55"))
    p["service"] = ProductFactory(sku="SVC", name="Service", unit_price=Decimal("500.00"))
    _orders(data)
    _deals(data, stages)
    return data


def _orders(data):
    c, p, o = data.customers, data.products, data.orders
    s1, s2 = data.sales1, data.sales2
    o["o1"] = dated(
        order_in(
            "finished",
            s1,
            c["c1"],
            lines=[line(p["sensor"], 3, "100.10"), line(p["controller"], 1, "250.55", "10.00")],
            discount=Decimal("5.00"),
            tax_rate=Decimal("13"),
        ),
        created=local(2026, 1, 5),
        confirmed=local(2026, 1, 6, 15, 30),
        processing=local(2026, 1, 8),
        finished=local(2026, 1, 20, 18),
    )
    o["o2"] = dated(
        order_in("finished", s1, c["c2"], lines=[line(p["sensor"], 2, "99.99")]),
        created=local(2026, 1, 25),
        confirmed=local(2026, 1, 26, 9),
        processing=local(2026, 2, 1),
        finished=local(2026, 2, 10),
    )
    o["o3"] = dated(
        order_in("finished", s2, c["c3"], lines=[line(p["service"], 1, "1234.56")], tax_rate=Decimal("6")),
        created=local(2026, 2, 15),
        confirmed=local(2026, 2, 16),
        processing=local(2026, 2, 20),
        finished=local(2026, 3, 31, 23, 30),
    )
    o["o4"] = dated(
        order_in("finished", s2, c["c4"], lines=[line(p["controller"], 4, "250.55")]),
        created=local(2026, 3, 1),
        confirmed=local(2026, 3, 2),
        processing=local(2026, 3, 5),
        finished=local(2026, 4, 15),
    )
    # A manager's order for sales1's customer, owned by sales2.
    o["o5"] = dated(
        order_in(
            "finished",
            data.manager,
            c["c1"],
            owner=s2,
            lines=[line(p["sensor"], 1, "100.10"), line(p["service"], 1, "500.00")],
        ),
        created=local(2026, 4, 1),
        confirmed=local(2026, 4, 3),
        processing=local(2026, 4, 10),
        finished=local(2026, 5, 5, 11),
    )
    # Just after midnight on 1 July in Shanghai: 30 June in UTC, July in the reports.
    o["o6"] = dated(
        order_in("finished", s2, c["c3"], lines=[line(p["sensor"], 10, "95.50")]),
        created=local(2026, 5, 20),
        confirmed=local(2026, 5, 21),
        processing=local(2026, 5, 22),
        finished=local(2026, 7, 1, 0, 30),
    )
    o["o7"] = dated(
        order_in("finished", s1, c["c2"], lines=[line(p["service"], 2, "480.00")]),
        created=local(2025, 11, 20),
        confirmed=local(2025, 11, 21),
        processing=local(2025, 11, 25),
        finished=local(2025, 12, 15),
    )
    o["o8"] = dated(
        order_in("confirmed", s1, c["c1"], lines=[line(p["controller"], 2, "250.55")]),
        created=local(2026, 6, 1),
        confirmed=local(2026, 6, 2),
    )
    o["o9"] = dated(
        order_in("processing", s2, c["c4"], lines=[line(p["service"], 3, "500.00")]),
        created=local(2026, 6, 10),
        confirmed=local(2026, 6, 11),
        processing=local(2026, 6, 12),
    )
    # Booked in March, then cancelled.
    o["o10"] = dated(
        advance(s1, make_order(s1, c["c2"], lines=[line(p["sensor"], 5, "100.10")]), "confirmed", "closed"),
        created=local(2026, 3, 10),
        confirmed=local(2026, 3, 11),
        closed=local(2026, 3, 20),
    )
    o["o11"] = dated(
        order_in("created", s2, c["c3"], lines=[line(p["sensor"], 1, "100.10")]), created=local(2026, 6, 20)
    )
    o["o12"] = dated(
        order_in("finished", s1, c["c1"], lines=[line(p["sensor"], 7, "15.00")], currency="USD"),
        created=local(2026, 2, 1),
        confirmed=local(2026, 2, 2),
        processing=local(2026, 2, 3),
        finished=local(2026, 2, 20),
    )


def _deals(data, stages):
    c, p, d = data.customers, data.products, data.deals
    s1, s2 = data.sales1, data.sales2

    def new(user, customer, stage="capture", source="", lines=None, close=date(2026, 12, 15)):
        lines = lines or [{"product": p["sensor"], "quantity": 5}]
        deal = deal_services.create_opportunity(
            actor=user,
            customer=customer,
            stage=stages[stage],
            lines=lines,
            title=f"Deal for {customer.name}",
            expected_close_date=close,
            source=source,
        )
        return Opportunity.objects.get(pk=deal.pk)

    def move(user, deal, *codes):
        for code in codes:
            deal = deal_services.move_stage(actor=user, opportunity=deal, stage=stages[code])
        return deal

    d1 = move(s1, new(s1, c["c1"], source="referral"), "qualify", "evaluate")
    d["d1"] = dated_deal(
        deal_services.mark_won(actor=s1, opportunity=d1),
        local(2026, 1, 10),
        local(2026, 1, 15),
        local(2026, 2, 1),
        local(2026, 2, 20),
    )
    d2 = new(s1, c["c2"], source="website", lines=[{"product": p["controller"], "quantity": 2}])
    d["d2"] = dated_deal(
        deal_services.mark_lost(actor=s1, opportunity=d2, reason="Price"),
        local(2026, 2, 5),
        local(2026, 3, 10),
    )
    d3 = move(
        s2,
        new(
            s2,
            c["c3"],
            source="referral",
            lines=[{"product": p["sensor"], "quantity": 2}, {"product": p["service"], "quantity": 1}],
        ),
        "qualify",
    )
    d["d3"] = dated_deal(
        deal_services.mark_won(actor=s2, opportunity=d3),
        local(2026, 3, 1),
        local(2026, 3, 12),
        local(2026, 4, 20, 16),
    )
    # Lost, then reopened: open again now, counted neither won nor lost.
    d4 = new(s2, c["c3"], source="website", close=date(2026, 10, 31))
    d4 = deal_services.mark_lost(actor=s2, opportunity=d4, reason="Timing")
    d4 = move(s2, deal_services.reopen(actor=s2, opportunity=d4, stage=stages["qualify"]), "evaluate")
    d["d4"] = dated_deal(d4, local(2026, 1, 20), local(2026, 2, 28), local(2026, 3, 5), local(2026, 3, 25, 8))
    d["d5"] = dated_deal(
        new(s2, c["c4"], lines=[{"product": p["controller"], "quantity": 3}]), local(2026, 4, 1)
    )
    d6 = move(
        s1, new(s1, c["c1"], source="referral", lines=[{"product": p["service"], "quantity": 4}]), "qualify"
    )
    d["d6"] = dated_deal(
        deal_services.mark_won(actor=s1, opportunity=d6),
        local(2025, 11, 10),
        local(2025, 12, 1),
        local(2026, 1, 15),
    )
    d["d7"] = dated_deal(
        move(s1, new(s1, c["c2"], source="website"), "decision"), local(2026, 5, 1), local(2026, 5, 3)
    )
    # Won, its order closed, reopened and lost: counts as lost only.
    d8 = deal_services.mark_won(actor=s1, opportunity=new(s1, c["c1"], source="website"))
    assert d8.order is not None, "winning a deal makes its order"
    order_services.close_order(actor=s1, order=d8.order, reason="Cancelled")
    d8 = deal_services.reopen(actor=s1, opportunity=Opportunity.objects.get(pk=d8.pk))
    d8 = deal_services.mark_lost(actor=s1, opportunity=d8, reason="Went elsewhere")
    d["d8"] = dated_deal(d8, local(2026, 3, 1), local(2026, 3, 15), local(2026, 3, 20), local(2026, 4, 10))
