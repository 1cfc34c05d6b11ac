"""Demo users and data: deterministic, idempotent, bilingual.

Each app that has demo data adds its seeder to _seeders(), in dependency order; a seeder
takes a DemoContext and creates its records only when they are not there yet. The context's
`scale` shrinks (or grows) how many records each seeder makes: tests seed a tenth of the demo.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db.models import Min
from faker import Faker

from crm.roles import MANAGERS, SALES, TEAM_LEADS

DEMO_PASSWORD = "demo"
DEMO_SEED = 20261122

# username, group, staff, first name, last name
DEMO_USERS = [
    ("manager", MANAGERS, True, "Min", "Wang"),
    ("sales1", SALES, False, "Lei", "Zhang"),
    ("sales2", SALES, False, "Emma", "Li"),
    ("lead1", TEAM_LEADS, False, "Jun", "Zhao"),
]


@dataclass
class DemoContext:
    rng: random.Random
    fake_zh: Faker
    fake_en: Faker
    manager: User
    sales: list[User]
    scale: float = 1.0

    def count(self, full: int) -> int:
        """How many of something the demo makes at this scale, given how many it makes at full scale."""
        return max(1, round(full * self.scale))


def demo_context(users: dict[str, User], scale: float = 1.0) -> DemoContext:
    """The context every seeder gets: the demo users and random sources seeded with DEMO_SEED."""
    fake_zh, fake_en = Faker("zh_CN"), Faker("en_US")
    fake_zh.seed_instance(DEMO_SEED)
    fake_en.seed_instance(DEMO_SEED)
    return DemoContext(
        rng=random.Random(DEMO_SEED),
        fake_zh=fake_zh,
        fake_en=fake_en,
        manager=users["manager"],
        sales=[users["sales1"], users["sales2"]],
        scale=scale,
    )


def seed_users() -> dict[str, User]:
    """Create the demo users once; an existing user keeps its password."""
    User = get_user_model()
    users = {}
    for username, group_name, is_staff, first_name, last_name in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "is_staff": is_staff,
                "email": f"{username}@example.com",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=group_name))
        users[username] = user
    return users


def _seeders() -> list[Callable[[DemoContext], None]]:
    from accounts.demo import seed_teams
    from customers.demo import seed_customers, seed_segments
    from followups.demo import seed_followups
    from opportunities.demo import seed_opportunities
    from orders.demo import seed_orders

    return [
        seed_teams,
        seed_customers,
        seed_orders,
        seed_opportunities,
        seed_followups,
        _customers_predate_their_records,
        seed_segments,
    ]


# Each app's seeder dates its records on its own; a customer must still exist before the first of them.
CUSTOMER_RECORD_TIMES = [
    ("customers.Need", "raised_at"),
    ("orders.Order", "created_at"),
    ("opportunities.Opportunity", "created_at"),
    ("followups.Communication", "occurred_at"),
    ("followups.FollowUp", "created_at"),
]
LEAD_TIME = timedelta(days=3)


def _customers_predate_their_records(context: DemoContext) -> None:
    """Moves a customer's creation (and its history's) back to before its earliest record."""
    from customers.models import Customer

    earliest: dict[int, datetime] = {}
    for label, field in CUSTOMER_RECORD_TIMES:
        firsts = apps.get_model(label).objects.values("customer").annotate(first=Min(field))
        for row in firsts.values_list("customer", "first"):
            earliest[row[0]] = min(earliest.get(row[0], row[1]), row[1])
    late = [
        customer
        for customer in Customer.objects.filter(pk__in=earliest).only("pk", "created_at")
        if customer.created_at > earliest[customer.pk] - LEAD_TIME
    ]
    for customer in late:
        customer.created_at = earliest[customer.pk] - LEAD_TIME
        customer.history.filter(history_type="+").update(history_date=customer.created_at)
    Customer.objects.bulk_update(late, ["created_at"], batch_size=500)


def seed_all(scale: float = 1.0) -> dict[str, User]:
    """The demo users and data; `scale` 0.1 makes a tenth of the records (the users and the catalogue
    stay whole)."""
    users = seed_users()
    context = demo_context(users, scale)
    for seeder in _seeders():
        seeder(context)
    from customers.activity import refresh_last_activity  # the apps' models load after crm's
    from summaries.upkeep import rebuild

    refresh_last_activity(apps.get_model("customers", "Customer").objects.all())  # events are bulk-inserted
    rebuild()  # the dated records were written around the services that keep the summaries
    return users
