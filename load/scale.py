"""More data than the demo, the same on every run: customers with a mobile number each, and a year
of conversations with them. Inserted in bulk, like the demo data (crm/demo.py), after `seed_demo`.

    python manage.py shell -c "from load.scale import scale_up; scale_up(10)"
"""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from crm.demo import DEMO_USERS
from customers.models import ContactMethod, Customer
from followups.models import Communication

SEED = 16
CUSTOMERS_PER_FACTOR = 500
COMMUNICATIONS_PER_CUSTOMER = 4
MARK = "Load "  # the scaled customers' names start with it; running again adds nothing


@transaction.atomic
def scale_up(factor: int) -> None:
    if Customer.objects.filter(name__startswith=MARK).exists():
        return
    rng = random.Random(SEED)
    owners = list(get_user_model().objects.filter(username__in=[user[0] for user in DEMO_USERS]))
    now = timezone.now()
    customers = Customer.objects.bulk_create(
        Customer(
            name=f"{MARK}{rng.choice(['华东', '华南', 'Northern', 'Pacific'])} {index:06d}",
            kind="organisation",
            owner=rng.choice(owners),
            lifecycle_stage=rng.choice(["lead", "prospect", "active", "inactive"]),
            region=rng.choice(["上海", "北京", "广州", "Shenzhen"]),
        )
        for index in range(factor * CUSTOMERS_PER_FACTOR)
    )
    ContactMethod.objects.bulk_create(
        ContactMethod(customer=customer, type="mobile", value=f"+86139{index:08d}", is_primary=True)
        for index, customer in enumerate(customers)
    )
    Communication.objects.bulk_create(
        (
            Communication(
                customer=customer,
                staff=customer.owner,
                channel=rng.choice(["phone", "email", "meeting", "wechat"]),
                direction=rng.choice(["in", "out"]),
                occurred_at=now - timedelta(minutes=rng.randrange(365 * 24 * 60)),
                subject=f"Call {number}",
                content="Talked about their needs and the next order.",
            )
            for customer in customers
            for number in range(COMMUNICATIONS_PER_CUSTOMER)
        ),
        batch_size=2000,
    )
