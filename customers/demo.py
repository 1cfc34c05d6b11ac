"""Demo customers: a few hundred, Chinese and English, with contact methods, persons and needs."""

from datetime import timedelta

from django.utils import timezone

from customers import services
from customers.models import ContactMethod, Customer, Need, Tag

DEMO_CUSTOMER_COUNT = 300
# lead, prospect, active, inactive, lost: most of a book of business is live.
LIFECYCLE_WEIGHTS = [20, 25, 35, 12, 8]
TAGS = ["VIP", "重点客户", "Key account", "渠道", "Referral", "展会"]
REGIONS = [
    "上海",
    "北京",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "南京",
    "苏州",
    "武汉",
    "Hong Kong",
    "Singapore",
    "London",
]
MOBILE_PREFIXES = ["138", "139", "135", "136", "186", "188", "158", "159", "177", "199"]
ORG_SUFFIXES_ZH = ["科技有限公司", "贸易有限公司", "制造有限公司", "信息技术有限公司", "集团"]
NEEDS = [
    (Need.Type.PRODUCT, "需要 200 台工业传感器，要求三月底前交付"),
    (Need.Type.PRICE, "希望年度采购享受阶梯折扣"),
    (Need.Type.SUPPORT, "Needs on-site training for the maintenance team"),
    (Need.Type.DELIVERY, "Wants weekly partial deliveries instead of one shipment"),
    (Need.Type.CUSTOMISATION, "定制外壳颜色和公司 logo"),
    (Need.Type.SERVICE, "Asks for a three-year service contract"),
]


def seed_customers(context):
    if Customer.objects.exists():
        return
    rng = context.rng
    tags = [Tag.objects.get_or_create(name=name)[0] for name in TAGS]
    owners = [*context.sales, context.manager]
    for index in range(context.count(DEMO_CUSTOMER_COUNT)):
        owner = rng.choices(owners, weights=[45, 45, 10])[0]
        _seed_customer(context, rng, index, owner, tags)


def _seed_customer(context, rng, index, owner, tags):
    chinese = index % 3 != 2
    fake = context.fake_zh if chinese else context.fake_en
    is_person = index % 4 == 0
    if is_person:
        name = fake.name()
    elif chinese:
        name = (
            fake.city_name()
            + fake.last_name()
            + rng.choice(["华", "信", "达", "通", "创"])
            + rng.choice(ORG_SUFFIXES_ZH)
        )
    else:
        name = fake.company()
    fields = {
        "name": name,
        "kind": Customer.Kind.PERSON if is_person else Customer.Kind.ORGANISATION,
        "lifecycle_stage": rng.choices(Customer.Lifecycle.values, weights=LIFECYCLE_WEIGHTS)[0],
        "source": rng.choice(Customer.Source.values),
        "industry": "" if is_person else rng.choice(Customer.Industry.values),
        "size": "" if is_person else rng.choice(Customer.Size.values),
        "region": rng.choice(REGIONS),
        "address": fake.address().replace("\n", " "),
        "notes": fake.sentence() if rng.random() < 0.3 else "",
    }
    if is_person:
        fields["gender"] = rng.choice([Customer.Gender.FEMALE, Customer.Gender.MALE])
        fields["birth_date"] = fake.date_of_birth(minimum_age=22, maximum_age=65)
    mobile = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**7, 10**8)}"
    methods = [{"type": ContactMethod.Type.MOBILE, "value": mobile}]
    methods.append({"type": ContactMethod.Type.EMAIL, "value": f"contact{index}@{fake.domain_name()}"})
    if rng.random() < 0.4:
        methods.append({"type": ContactMethod.Type.WECHAT, "value": f"wx_{fake.user_name()}{index}"})
    customer = services.create_customer(
        actor=context.manager,
        owner=owner,
        tags=rng.sample(tags, rng.randint(0, 2)),
        contact_methods=methods,
        **fields,
    )
    _backdate(customer, rng)
    if not is_person:
        for _ in range(rng.randint(0, 2)):
            services.add_contact_person(
                actor=context.manager,
                customer=customer,
                name=fake.name(),
                title=fake.job()[:100],
                email=fake.email(),
            )
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        need_type, description = rng.choice(NEEDS)
        need = services.raise_need(
            actor=owner,
            customer=customer,
            type=need_type,
            description=description,
            priority=rng.choice(Need.Priority.values),
            raised_at=timezone.now() - timedelta(days=rng.randint(0, 360)),
        )
        if rng.random() < 0.45:
            services.resolve_need(actor=owner, need=need, status=rng.choice(Need.CLOSED_STATUSES))


def _backdate(customer, rng):
    """Spread creation dates over the last two years, as a real customer base would be."""
    created = timezone.now() - timedelta(days=rng.randint(0, 730), minutes=rng.randint(0, 1440))
    last_activity = created + (timezone.now() - created) * rng.random()
    Customer.objects.filter(pk=customer.pk).update(created_at=created, updated_at=last_activity)
    customer.history.filter(history_type="+").update(history_date=created)


SEGMENT_HISTORY_DAYS = 30


def seed_segments(context):
    """RFM scores as the nightly command leaves them: a month ago and today, so the segment report has
    movement to show."""
    from customers.models import RFMScore
    from customers.segmentation import compute_rfm

    if RFMScore.objects.exists():
        return
    today = timezone.localdate()
    compute_rfm(actor=None, on=today - timedelta(days=SEGMENT_HISTORY_DAYS))
    compute_rfm(actor=None, on=today)
