"""Demo communications and follow-ups: a year of conversations with the demo customers, in the
customer's language, and the follow-ups they called for; sales1 and sales2 find overdue and
due-today follow-ups in My day. Some are about one of the customer's orders or opportunities (one
made before the conversation), so their pages have something to show.

Written in bulk (with their history) for speed: the services refuse what a demo needs, such as
follow-ups scheduled in the past.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone

from crm.filters import end_of_day
from crm.history import date_history
from customers.models import ContactPerson, Customer
from followups.models import Communication, FollowUp
from opportunities.models import Opportunity
from orders.models import Order

# How a past follow-up ended: its status, result and completion time.
Outcome = tuple[str, str, datetime | None]

HISTORY_DAYS = 300
# How often a conversation is about an order, and about an opportunity, when the customer has one.
ORDER_SHARE, OPPORTUNITY_SHARE = 0.35, 0.4
CONVERSATIONS = {
    "zh": [
        ("介绍新产品线", "电话介绍了今年的新产品线，客户对传感器系列很感兴趣，希望收到详细报价。"),
        ("报价跟进", "确认了报价单的细节，客户希望批量采购时能有更多折扣。"),
        ("技术交流会", "与客户技术团队开会，讨论了接口兼容性和交付周期。"),
        ("上门拜访", "拜访了客户工厂，了解生产线现状和明年的改造计划。"),
        ("合同条款沟通", "就付款方式和验收标准交换了意见，客户法务本周内回复。"),
        ("售后回访", "回访上次交付的设备使用情况，客户反馈运行稳定，有追加采购的可能。"),
        ("样品寄送确认", "客户确认收到样品，下周安排内部测试。"),
    ],
    "en": [
        (
            "New product line",
            "Walked them through this year's product line; the sensor series caught their interest.",
        ),
        ("Quote follow-up", "Went over the quote line by line; they ask for a better volume discount."),
        ("Technical workshop", "Met their engineering team about interface compatibility and lead times."),
        ("Site visit", "Visited the plant; they plan to upgrade two production lines next year."),
        (
            "Contract terms",
            "Discussed payment terms and acceptance criteria; their legal team replies this week.",
        ),
        ("After-sales check-in", "Checked how the delivered units run: stable, and they may order more."),
        ("Samples received", "They confirmed the samples arrived and will test them next week."),
    ],
}
OUTCOMES = {
    "zh": ["客户有意向", "需要重新报价", "等待客户决策", "", ""],
    "en": ["Interested", "Needs a revised quote", "Waiting for their decision", "", ""],
}
TASKS = {
    "zh": ["发送报价单", "回电确认需求", "安排产品演示", "寄送样品", "跟进合同进度", "确认交付计划"],
    "en": [
        "Send the quote",
        "Call back to confirm requirements",
        "Schedule a demo",
        "Send samples",
        "Chase the contract",
        "Confirm the delivery plan",
    ],
}
RESULTS = {
    "zh": [
        "已发送，客户确认收到",
        "客户同意下周见面",
        "客户暂缓采购，三个月后再联系",
        "需求已确认，准备方案",
    ],
    "en": [
        "Sent; they confirmed receipt",
        "They agreed to meet next week",
        "On hold; call again in three months",
        "Requirements confirmed; preparing a proposal",
    ],
}


def _language(customer):
    return "zh" if any("\u4e00" <= char <= "\u9fff" for char in customer.name) else "en"


def seed_followups(context):
    if Communication.objects.exists() or FollowUp.objects.exists():
        return
    rng, now = context.rng, timezone.now()
    customers = list(Customer.objects.select_related("owner").order_by("pk"))
    persons: dict[int, list[ContactPerson]] = {}
    for person in ContactPerson.objects.order_by("pk"):
        persons.setdefault(person.customer_id, []).append(person)
    records = _Records()
    communications, followups, outcomes = [], [], {}
    for customer in customers:
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4, 6])):
            communication = _communication(rng, customer, persons, now)
            records.link(rng, communication, communication.occurred_at)
            communications.append(communication)
            if rng.random() < 0.45:
                followup, outcome = _followup_of(rng, communication, now)
                followups.append(followup)
                if outcome:
                    outcomes[id(followup)] = outcome
    _save_communications(communications)
    planned = _my_day(rng, customers, context, now)
    for followup in planned:
        records.link(rng, followup, followup.created_at)
    _save_followups(followups + planned, outcomes)


class _Records:
    """Each customer's orders and opportunities, oldest first, read in two queries."""

    def __init__(self):
        self.by_kind = {
            "order": self._by_customer(Order.objects.all()),
            "opportunity": self._by_customer(Opportunity.objects.all()),
        }

    @staticmethod
    def _by_customer(queryset):
        by_customer: dict[int, list[tuple[datetime, int]]] = {}
        rows = queryset.order_by("created_at", "pk").values_list("customer_id", "created_at", "pk")
        for customer_id, created_at, pk in rows:
            by_customer.setdefault(customer_id, []).append((created_at, pk))
        return by_customer

    def link(self, rng, item, moment):
        """Now and then, make `item` about one of its customer's latest orders and opportunities made
        before `moment`."""
        for kind, share in (("order", ORDER_SHARE), ("opportunity", OPPORTUNITY_SHARE)):
            made = [
                pk for created_at, pk in self.by_kind[kind].get(item.customer_id, []) if created_at < moment
            ]
            if made and rng.random() < share:
                setattr(item, f"{kind}_id", rng.choice(made[-3:]))


def _communication(rng, customer, persons, now):
    language = _language(customer)
    subject, content = rng.choice(CONVERSATIONS[language])
    occurred = now - timedelta(days=rng.randint(1, HISTORY_DAYS), minutes=rng.randint(0, 600))
    communication = Communication(
        customer=customer,
        contact_person=rng.choice(persons.get(customer.pk, [None])),
        channel=rng.choice(Communication.Channel.values),
        direction=rng.choice(Communication.Direction.values),
        occurred_at=occurred,
        subject=subject,
        content=content,
        outcome=rng.choice(OUTCOMES[language]),
        staff=customer.owner,
    )
    communication.created_at = occurred + timedelta(minutes=rng.randint(5, 90))
    return communication


def _followup_of(rng, communication, now) -> tuple[FollowUp, Outcome | None]:
    """The follow-up a past conversation called for: mostly done by now, some cancelled, a few overdue."""
    customer, created = communication.customer, communication.created_at
    due_day = timezone.localtime(created).date() + timedelta(days=rng.randint(1, 10))
    due_time = time(rng.choice([9, 10, 11, 14, 15, 16]), rng.choice([0, 30]))
    followup = _followup(rng, customer, created, timezone.make_aware(datetime.combine(due_day, due_time)))
    followup.communication = communication
    followup.order_id, followup.opportunity_id = communication.order_id, communication.opportunity_id
    if followup.due_at < now:
        chance = rng.random()
        if chance < 0.1:
            return followup, (FollowUp.Status.CANCELLED, "", None)
        if chance < 0.92 or followup.due_at < now - timedelta(days=20):
            completed = min(
                followup.due_at + timedelta(hours=rng.randint(-6, 24)), now - timedelta(minutes=5)
            )
            result = rng.choice(RESULTS[_language(customer)])
            return followup, (FollowUp.Status.DONE, result, completed)
    return followup, None


def _followup(rng, customer, created, due_at):
    followup = FollowUp(
        customer=customer,
        subject=rng.choice(TASKS[_language(customer)]),
        due_at=due_at,
        assignee=customer.owner,
        priority=rng.choice(FollowUp.Priority.values),
        created_by=customer.owner,
    )
    followup.created_at = created
    return followup


def _my_day(rng, customers, context, now):
    """For each sales user: follow-ups overdue from earlier days, and some due later today."""
    planned = []
    end_of_today = end_of_day(timezone.localdate(now))
    for user in context.sales:
        own = [customer for customer in customers if customer.owner_id == user.pk]
        for customer in rng.sample(own, min(len(own), 6)):
            due = now - timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 5))
            planned.append(_followup(rng, customer, due - timedelta(days=2), due))
        for index, customer in enumerate(rng.sample(own, min(len(own), 3))):
            due = now + (end_of_today - now) * (index + 1) / 4
            planned.append(_followup(rng, customer, now - timedelta(days=1), due))
    return planned


def _save_communications(communications):
    """Insert in bulk, keep the backdated creation times (bulk_update skips auto_now_add), add history."""
    created = {id(c): c.created_at for c in communications}
    Communication.objects.bulk_create(communications, batch_size=500)
    for communication in communications:
        communication.created_at = created[id(communication)]
        date_history(communication, communication.created_at, communication.staff)
    Communication.objects.bulk_update(communications, ["created_at"], batch_size=500)
    Communication.history.bulk_history_create(communications, batch_size=500)


def _save_followups(followups: list[FollowUp], outcomes: dict[int, Outcome]) -> None:
    """Insert open, as scheduled; then close the ones done or cancelled since (`outcomes`, by the id()
    of the follow-up), each step in the history."""
    created = {id(f): f.created_at for f in followups}
    FollowUp.objects.bulk_create(followups, batch_size=500)
    for followup in followups:
        followup.created_at = created[id(followup)]
        date_history(followup, followup.created_at, followup.created_by)
    FollowUp.objects.bulk_update(followups, ["created_at"], batch_size=500)
    FollowUp.history.bulk_history_create(followups, batch_size=500)
    closed = [followup for followup in followups if id(followup) in outcomes]
    for followup in closed:
        followup.status, followup.result, followup.completed_at = outcomes[id(followup)]
        followup.completed_by = followup.assignee if followup.completed_at else None
        date_history(followup, followup.completed_at or followup.due_at)
    FollowUp.objects.bulk_update(closed, ["status", "result", "completed_at", "completed_by"], batch_size=500)
    FollowUp.history.bulk_history_create(closed, update=True, batch_size=500)
