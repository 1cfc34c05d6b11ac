"""Demo products and a few thousand orders over the last 18 months, in every status.

Orders are built in memory and inserted with bulk_create: each walks the lifecycle the services
enforce (stamps in order, one event per transition, payments within the balance, an invoice
number once finished), with totals from services.compute_totals. Numbers follow the dates.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from crm.history import date_history
from customers.models import Customer
from orders import events, services
from orders.models import (
    DocumentCounter,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentMethod,
    Product,
    SellerProfile,
    Status,
)

DEMO_ORDER_COUNT = 3000
DAYS = 548  # 18 months
# sku, name, series, unit price
PRODUCTS = [
    ("SEN-T100", "工业温度传感器 T100", "传感器 Sensors", "1280.00"),
    ("SEN-P200", "Pressure transmitter P200", "传感器 Sensors", "2360.00"),
    ("SEN-F300", "电磁流量计 F300", "传感器 Sensors", "8900.00"),
    ("SEN-L050", "Ultrasonic level sensor L50", "传感器 Sensors", "3150.00"),
    ("PLC-S7", "PLC controller S7 compatible", "控制器 Controllers", "15800.00"),
    ("PLC-M10", "小型可编程控制器 M10", "控制器 Controllers", "4600.00"),
    ("HMI-07", "7寸触摸屏 HMI-07", "控制器 Controllers", "2980.00"),
    ("HMI-15", "15-inch operator panel HMI-15", "控制器 Controllers", "9800.00"),
    ("VFD-2K2", "变频器 2.2kW", "驱动 Drives", "3380.00"),
    ("VFD-7K5", "Variable frequency drive 7.5kW", "驱动 Drives", "7650.00"),
    ("SRV-400", "伺服电机套装 400W", "驱动 Drives", "5200.00"),
    ("SRV-1K", "Servo motor kit 1kW", "驱动 Drives", "11800.00"),
    ("VAL-DN50", "电动调节阀 DN50", "阀门 Valves", "6400.00"),
    ("VAL-DN100", "Control valve DN100", "阀门 Valves", "12600.00"),
    ("CAB-CTRL", "控制柜 (标准)", "成套设备 Systems", "48000.00"),
    ("SYS-SCADA", "SCADA software licence", "软件 Software", "68000.00"),
    ("SYS-MES", "MES 车间管理系统", "软件 Software", "186000.00"),
    ("SW-MAINT", "年度软件维护 Annual software maintenance", "服务 Services", "18000.00"),
    ("SVC-INST", "现场安装调试 On-site commissioning (day)", "服务 Services", "2800.00"),
    ("SVC-TRAIN", "Operator training (day)", "服务 Services", "2200.00"),
    ("SVC-REPAIR", "维修服务 Repair service", "服务 Services", "1500.00"),
    ("ACC-CBL10", "屏蔽电缆 10m", "配件 Accessories", "180.00"),
    ("ACC-PSU24", "24V power supply 10A", "配件 Accessories", "420.00"),
    ("ACC-RLY", "中间继电器 (10只)", "配件 Accessories", "260.00"),
    ("ACC-GW", "Industrial IoT gateway", "配件 Accessories", "3600.00"),
    ("OLD-T90", "温度传感器 T90 (停产)", "传感器 Sensors", "980.00"),
]
INACTIVE_SKUS = {"OLD-T90"}
CLOSE_REASONS = [
    "客户取消采购计划",
    "Customer chose a competitor",
    "预算未获批准",
    "Duplicate order entered by mistake",
    "客户长期未回复",
]
CARRIERS = ["顺丰速运", "京东物流", "德邦物流", "DHL Express"]


# The event each step of the lifecycle records.
STEP_EVENTS = {
    Status.CONFIRMED: events.order_confirmed,
    Status.PROCESSING: events.processing_started,
    Status.FINISHED: events.order_finished,
}


@dataclass
class _Built:
    order: Order
    lines: list
    # What happened, as (event function, its arguments but the order), recorded once the order is inserted.
    steps: list = field(default_factory=list)
    payments: list = field(default_factory=list)
    created_at: object = None
    updated_at: object = None


DEMO_SELLER = {
    "company_name": "上海华信自动化有限公司",
    "address": "上海市闵行区莘庄工业区春东路 508 号",
    "tax_number": "91310112MA1GB2XX3K",
    "bank_name": "中国银行上海闵行支行",
    "bank_account": "4563 5100 8888 0001",
    "phone": "021-5489 0000",
}


def seed_orders(context):
    SellerProfile.objects.get_or_create(pk=1, defaults=DEMO_SELLER)  # named on the settlement statements
    products = _seed_products(context)
    if Order.objects.exists():
        return
    customers = list(Customer.objects.order_by("pk").only("pk", "owner_id", "address"))
    if not customers:
        return
    rng, now = context.rng, timezone.now()
    ages = sorted((rng.uniform(0, DAYS) for _ in range(context.count(DEMO_ORDER_COUNT))), reverse=True)
    built = [
        _build(context, rng, now - timedelta(days=age), rng.choice(customers), products, now) for age in ages
    ]
    _number(built)
    _insert(context, built)


def _seed_products(context):
    if not Product.objects.exists():
        Product.objects.bulk_create(
            Product(
                sku=sku, name=name, series=series, unit_price=Decimal(price), active=sku not in INACTIVE_SKUS
            )
            for sku, name, series, price in PRODUCTS
        )
        Product.history.bulk_history_create(list(Product.objects.all()), default_user=context.manager)
    return list(Product.objects.order_by("sku"))


def _build(context, rng, created_at, customer, products, now):
    order = Order(
        customer_id=customer.pk,
        owner_id=customer.owner_id,
        tax_rate=Decimal("13") if rng.random() < 0.85 else Decimal("0"),
        payment_method=rng.choice(PaymentMethod.values),
        shipping_address=customer.address,
        created_at=created_at,
    )
    lines = [
        _line(rng, index, product) for index, product in enumerate(rng.sample(products, rng.randint(1, 4)))
    ]
    totals = services.compute_totals(lines)
    order.discount = (totals.subtotal * Decimal(rng.choice([0, 0, 0, 2, 5]) / 100)).quantize(Decimal("0.01"))
    totals = services.compute_totals(lines, discount=order.discount, tax_rate=order.tax_rate)
    order.subtotal, order.tax, order.total = totals.subtotal, totals.tax, totals.total
    item = _Built(order, lines)
    item.steps.append((events.order_created, {"actor": customer.owner_id, "at": created_at}))
    status = _walk(context, rng, item, now)
    order.balance = order.total - order.paid_amount
    item.order = _with_status(order, status)
    item.created_at, item.updated_at = created_at, _last_step(item, created_at)
    return item


def _last_step(item: _Built, created_at: datetime) -> datetime:
    return max([created_at, *(arguments["at"] for _record, arguments in item.steps)])


def walk_on(context, order, created_at):
    """Dates an order made through the services (e.g. by winning an opportunity) back to
    `created_at` and walks it on through the lifecycle as the other demo orders walk."""
    item = _Built(order, lines=[])
    order.created_at = created_at
    status = _walk(context, context.rng, item, timezone.now())
    if status == Status.FINISHED:
        order.invoice_number = services.next_number("INV", order.finished_at)
    stamps = ["confirmed_at", "processing_at", "finished_at", "closed_at", "close_reason", "invoice_number"]
    Order.objects.filter(pk=order.pk).update(
        status=status,
        number=services.next_number("SO", created_at),
        created_at=created_at,
        updated_at=_last_step(item, created_at),
        paid_amount=order.paid_amount,
        balance=order.total - order.paid_amount,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        **{stamp: getattr(order, stamp) for stamp in stamps},
    )
    order.events.update(at=created_at)
    order.history.update(history_date=created_at)
    order.refresh_from_db()
    item.order = order
    _record([item])


def _line(rng, index, product):
    quantity = (
        rng.choice([1, 1, 2, 3, 5, 10, 20, 50]) if product.unit_price < 5000 else rng.choice([1, 1, 1, 2, 3])
    )
    discount = (
        (product.unit_price * quantity * Decimal("0.05")).quantize(Decimal("0.01"))
        if rng.random() < 0.2
        else 0
    )
    return OrderLine(
        position=index,
        product=product,
        description=product.name,
        quantity=quantity,
        unit_price=product.unit_price,
        discount=Decimal(discount),
        line_total=services.line_total(quantity, product.unit_price, Decimal(discount)),
    )


def _walk(context, rng, item, now):
    """Moves the order through the lifecycle as far as its age allows, closing some on the way."""
    order, at, status = item.order, item.order.created_at, Status.CREATED
    steps = [
        (Status.CONFIRMED, "confirmed_at", timedelta(hours=rng.uniform(0.5, 96))),
        (Status.PROCESSING, "processing_at", timedelta(hours=rng.uniform(2, 24 * 7))),
        (Status.FINISHED, "finished_at", timedelta(days=rng.uniform(1, 21))),
    ]
    for target, stamp, delay in steps:
        if rng.random() < 0.035:
            _close(rng, item, status, at + delay / 2, now)
            return Status.CLOSED
        if at + delay > now or rng.random() < 0.02:  # not yet, or stuck: the reports' stuck orders
            break
        at += delay
        if target == Status.FINISHED:
            _pay(item, at - timedelta(hours=rng.uniform(1, 48)), order.total - order.paid_amount, rng, now)
        setattr(order, stamp, at)
        actor = context.manager.pk if target == Status.CONFIRMED and order.needs_approval else order.owner_id
        item.steps.append((STEP_EVENTS[target], {"actor": actor, "at": at}))
        status = target
        if target == Status.CONFIRMED and rng.random() < 0.4:
            deposit = (order.total * Decimal("0.3")).quantize(Decimal("0.01"))
            _pay(item, at + timedelta(hours=rng.uniform(1, 72)), deposit, rng, now)
        if target == Status.PROCESSING:
            order.carrier = rng.choice(CARRIERS)
            order.tracking_number = f"{rng.choice(['SF', 'JD', 'DB', 'DHL'])}{rng.randrange(10**11, 10**12)}"
    if status == Status.FINISHED:
        order.invoice_number = "pending"  # numbered with the others, by date
    return status


def _close(rng, item, status, at, now):
    order = item.order
    at = min(at, now - timedelta(minutes=1))
    if order.paid_amount:
        _pay(item, at, -order.paid_amount, rng, now)
    order.closed_at, order.close_reason = at, rng.choice(CLOSE_REASONS)
    item.steps.append((events.order_closed, {"actor": order.owner_id, "at": at, "from_status": status}))


def _pay(item, at, amount, rng, now):
    if not amount or at > now:
        return
    item.order.paid_amount += amount
    item.payments.append(
        Payment(
            amount=amount,
            method=item.order.payment_method or PaymentMethod.BANK_TRANSFER,
            paid_at=at,
            reference=f"TX{rng.randrange(10**9, 10**10)}",
            recorded_by_id=item.order.owner_id,
        )
    )


def _with_status(order, status):
    """A copy of the order with its status given to the constructor, as the database loads one."""
    fields = Order._meta.concrete_fields
    return Order(
        status=status,
        **{f.attname: getattr(order, f.attname) for f in fields if f.name not in ("id", "status")},
    )


def _number(built):
    """SO- numbers by creation date and INV- numbers by finishing date, per year; the counters follow."""
    counters: defaultdict[tuple[str, int], int] = defaultdict(int)
    for item in built:
        year = timezone.localdate(item.order.created_at).year
        counters[("SO", year)] += 1
        item.order.number = f"SO-{year}-{counters['SO', year]:06d}"
    for item in sorted((i for i in built if i.order.invoice_number), key=lambda i: i.order.finished_at):
        year = timezone.localdate(item.order.finished_at).year
        counters[("INV", year)] += 1
        item.order.invoice_number = f"INV-{year}-{counters['INV', year]:06d}"
    DocumentCounter.objects.bulk_create(
        DocumentCounter(kind=kind, year=year, last=last) for (kind, year), last in counters.items()
    )


def _insert(context, built):
    orders = Order.objects.bulk_create([item.order for item in built], batch_size=500)
    for item in built:  # bulk_create stamped them now (auto_now_add): put the demo dates back
        item.order.created_at, item.order.updated_at = item.created_at, item.updated_at
    Order.objects.bulk_update(orders, ["created_at", "updated_at"], batch_size=500)
    for item in built:
        for part in (*item.lines, *item.payments):
            part.order = item.order
        date_history(item.order, item.order.created_at)
    lines = OrderLine.objects.bulk_create([line for item in built for line in item.lines], batch_size=1000)
    _record(built)
    Order.history.bulk_history_create(orders, default_user=context.manager, batch_size=500)
    for line in lines:
        date_history(line, line.order.created_at)
    OrderLine.history.bulk_history_create(lines, default_user=context.manager, batch_size=1000)


def _record(built: list[_Built]) -> None:
    """Inserts the orders' payments, then the events of every step and payment, as the services
    record them."""
    payments = [payment for item in built for payment in item.payments]
    for item in built:
        for payment in item.payments:
            payment.order = item.order
    Payment.objects.bulk_create(payments, batch_size=1000)
    users = User.objects.in_bulk()
    recorded = []
    for item in built:
        for record, arguments in item.steps:
            recorded.append(
                record(
                    order=item.order, commit=False, **{**arguments, "actor": users.get(arguments["actor"])}
                )
            )
        for payment in item.payments:
            record = events.refund_recorded if payment.is_refund else events.payment_recorded
            recorded.append(
                record(
                    order=item.order, actor=users.get(payment.recorded_by_id), payment=payment, commit=False
                )
            )
    OrderEvent.objects.bulk_create(recorded, batch_size=1000)
