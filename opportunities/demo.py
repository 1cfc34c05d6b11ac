"""Demo opportunities: a few hundred across every stage, with products, scores, BANT notes and a
believable stage history; the won ones come with the orders they became.

The opportunities, their lines, events and history are inserted in bulk; each won one's order is
made by orders.services.create_order, as winning makes it, then dated back to the day it was won
and walked on through its lifecycle like the other demo orders.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from crm.history import date_history
from customers.models import Customer
from opportunities import events
from opportunities.models import Opportunity, OpportunityEvent, OpportunityLine, ScoringWeights, Stage
from opportunities.services import value_score
from orders.demo import walk_on
from orders.models import Product
from orders.services import create_order, create_product

DEMO_OPPORTUNITY_COUNT = 360
# Out of 100: how many end up won and lost; the rest are still open.
WON_SHARE, LOST_SHARE = 22, 18
TITLES_ZH = [
    "{product}采购项目",
    "{product}年度框架协议",
    "{product}升级改造",
    "新产线{product}配套",
    "{product}替换项目",
]
TITLES_EN = [
    "{product} roll-out",
    "Annual {product} supply",
    "{product} upgrade",
    "{product} pilot",
    "{product} renewal",
]
LOST_REASONS = [
    "价格高于竞争对手 15%",
    "客户预算被冻结",
    "Chose a local competitor with faster delivery",
    "Project postponed to next year",
    "决策人变更，新负责人倾向原供应商",
]
BANT_NOTES = {
    "budget": ["预算已批复", "Budget approved in Q1 plan", "采购额度 50 万以内"],
    "authority": ["已与采购总监沟通", "Spoke with the CFO", "技术负责人有最终决定权"],
    "need": ["旧设备故障率高", "Capacity expansion planned", "需满足新环保标准"],
    "timing": ["希望下季度交付", "Go-live before year end", "招标在下月"],
}
# Used only when the orders seeder has not provided a catalogue.
FALLBACK_CATALOGUE = [
    ("SEN-100", "工业温度传感器", "传感器", "480.00"),
    ("SEN-200", "Pressure sensor PX-200", "Sensors", "1250.00"),
    ("CTL-10", "PLC 控制器 C10", "控制器", "6800.00"),
    ("CTL-20", "Motion controller MC-20", "Controllers", "15800.00"),
    ("SVC-INST", "现场安装服务", "服务", "3000.00"),
    ("SVC-CARE", "Annual maintenance plan", "Services", "12000.00"),
]


def seed_opportunities(context):
    if Opportunity.objects.exists():
        return
    customers = list(Customer.objects.select_related("owner").order_by("id"))
    products = _catalogue(context)
    if not customers or not products:
        return
    stages = list(Stage.objects.all())
    planner = _Planner(context, stages, products, ScoringWeights.current())
    plans = [
        planner.plan(context.rng.choice(customers)) for _ in range(context.count(DEMO_OPPORTUNITY_COUNT))
    ]
    opportunities = Opportunity.objects.bulk_create([plan.opportunity for plan in plans])
    for plan in plans:
        if plan.opportunity.won_at:
            plan.opportunity.order = _order_for(context, plan)
    Opportunity.history.bulk_history_create(opportunities)
    for plan in plans:
        for line in plan.lines:
            line.opportunity_id = plan.opportunity.pk
    OpportunityLine.objects.bulk_create([line for plan in plans for line in plan.lines])
    OpportunityEvent.objects.bulk_create([event for plan in plans for event in _events(plan)])
    # bulk_create stamps the creation time; put back when each was created and last moved.
    for plan in plans:
        plan.opportunity.created_at, plan.opportunity.updated_at = plan.steps[0][2], plan.steps[-1][2]
    Opportunity.objects.bulk_update(opportunities, ["order", "created_at", "updated_at"], batch_size=500)


def _catalogue(context):
    products = Product.objects.filter(active=True).order_by("sku")
    if not products.exists():
        for sku, name, series, price in FALLBACK_CATALOGUE:
            create_product(
                actor=context.manager, sku=sku, name=name, series=series, unit_price=Decimal(price)
            )
    return list(products)


class _Plan:
    """An opportunity, its lines, and its steps through the stages: (stage left, stage entered, when)."""

    def __init__(self, opportunity, lines, steps):
        self.opportunity, self.lines, self.steps = opportunity, lines, steps


def _events(plan: "_Plan") -> list[OpportunityEvent]:
    """The events the services record along the plan's steps, unsaved."""
    opportunity = plan.opportunity
    recorded = []
    for before, stage, at in plan.steps:
        common = {
            "opportunity": opportunity,
            "actor": opportunity.owner,
            "at": at,
            "stage": stage,
            "commit": False,
        }
        if before is None:
            recorded.append(events.opportunity_created(**common))
        elif stage.kind == Stage.Kind.WON:
            recorded.append(events.opportunity_won(from_stage=before, **common))
        elif stage.kind == Stage.Kind.LOST:
            recorded.append(events.opportunity_lost(from_stage=before, **common))
        else:
            recorded.append(events.stage_moved(from_stage=before, **common))
    return recorded


class _Planner:
    """Draws one opportunity at a time: its path through the stages, its lines and its scores."""

    def __init__(self, context, stages, products, weights):
        self.context, self.rng, self.products, self.weights = context, context.rng, products, weights
        self.open_stages = [stage for stage in stages if stage.is_open]
        self.won = next(stage for stage in stages if stage.kind == Stage.Kind.WON)
        self.lost = next(stage for stage in stages if stage.kind == Stage.Kind.LOST)
        self.now = timezone.now()

    def plan(self, customer):
        rng = self.rng
        outcome = rng.randrange(100)
        closing = self.won if outcome < WON_SHARE else self.lost if outcome < WON_SHARE + LOST_SHARE else None
        age = rng.randint(20, 300) if closing else rng.randint(3, 150)
        created = self.now - timedelta(days=age, minutes=rng.randint(0, 1440))
        path = self._path(closing)
        times = self._times(created, len(path))
        lines = self._lines(required=closing is self.won or len(path) > 2)
        product = lines[0].product if lines else rng.choice(self.products)
        titles = TITLES_ZH if _is_chinese(product.name) else TITLES_EN
        # Open ones are expected to close soon (a few are overdue); closed ones around when they closed.
        expected_close = (times[-1] if closing else self.now) + timedelta(days=rng.randint(-15, 90))
        opportunity = Opportunity(
            customer=customer,
            owner=customer.owner,
            title=rng.choice(titles).format(product=product.name)[:200],
            stage=path[-1],
            stage_entered_at=times[-1],
            amount=sum((line.total for line in lines), Decimal(0)) or Decimal(rng.randrange(5, 400) * 1000),
            probability=path[-1].probability,
            expected_close_date=timezone.localdate(expected_close),
            source=rng.choice(Customer.Source.values),
            description=self.context.fake_zh.sentence() if rng.random() < 0.5 else "",
            won_at=times[-1] if closing is self.won else None,
            lost_at=times[-1] if closing is self.lost else None,
            lost_reason=rng.choice(LOST_REASONS) if closing is self.lost else "",
            **self._scores(),
            **self._bant(len(path)),
        )
        opportunity.value_score = value_score(opportunity, self.weights)
        date_history(opportunity, created, customer.owner)
        steps = list(zip([None, *path[:-1]], path, times, strict=True))
        return _Plan(opportunity, lines, steps)

    def _path(self, closing):
        """The stages entered in order, skipping one now and then, ending where it is now."""
        reached = self.rng.randrange(len(self.open_stages)) if closing is None else self.rng.randrange(1, 5)
        reached = min(reached, len(self.open_stages) - 1)
        path = [self.open_stages[0]]
        path += [stage for stage in self.open_stages[1 : reached + 1] if self.rng.random() < 0.85]
        return [*path, closing] if closing else path

    def _times(self, created, count):
        """When each stage was entered: the first at creation, the others spread until now."""
        span = (self.now - created).total_seconds()
        offsets = sorted(self.rng.uniform(0.05, 0.95) * span for _ in range(count - 1))
        return [created, *(created + timedelta(seconds=offset) for offset in offsets)]

    def _lines(self, required):
        if not required and self.rng.random() < 0.4:
            return []
        chosen = self.rng.sample(self.products, self.rng.randint(1, min(3, len(self.products))))
        return [
            OpportunityLine(
                position=position,
                product=product,
                quantity=self.rng.choice([1, 2, 5, 10, 20, 50]),
                unit_price=(product.unit_price * Decimal(self.rng.choice(["1", "0.95", "0.9"]))).quantize(
                    Decimal("0.01")
                ),
            )
            for position, product in enumerate(chosen)
        ]

    def _scores(self):
        return {f"score_{factor}": self.rng.randrange(20, 101, 5) for factor in Opportunity.SCORE_FACTORS}

    def _bant(self, progress):
        """Further along, more of budget, authority, need and timing is confirmed."""
        fields = {}
        for item in Opportunity.BANT:
            confirmed = self.rng.random() < 0.15 + 0.15 * progress
            fields[f"{item}_confirmed"] = confirmed
            fields[f"{item}_note"] = self.rng.choice(BANT_NOTES[item]) if confirmed else ""
        return fields


def _is_chinese(text):
    return any("\u4e00" <= character <= "\u9fff" for character in text)


def _order_for(context, plan):
    """The order a won opportunity became, made as winning makes it and dated the day it was won."""
    opportunity = plan.opportunity
    order = create_order(
        actor=opportunity.owner,
        customer=opportunity.customer,
        lines=[
            {"product": ln.product, "quantity": ln.quantity, "unit_price": ln.unit_price} for ln in plan.lines
        ],
        opportunity=opportunity,
    )
    walk_on(context, order, opportunity.won_at)
    return order
