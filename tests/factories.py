from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

PASSWORD = "demo-Passw0rd"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def groups(self, create, groups):
        if create and groups:
            self.groups.add(*groups)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "customers.Customer"
        skip_postgeneration_save = True

    name = factory.Faker("company", locale="zh_CN")
    owner = factory.SubFactory(UserFactory)
    lifecycle_stage = "active"


class ContactMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "customers.ContactMethod"

    customer = factory.SubFactory(CustomerFactory)
    type = "mobile"
    value = factory.Sequence(lambda n: f"+861380013{n:04d}")


class NeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "customers.Need"

    customer = factory.SubFactory(CustomerFactory)
    description = factory.Faker("sentence")


class CommunicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "followups.Communication"

    customer = factory.SubFactory(CustomerFactory)
    staff = factory.SelfAttribute("customer.owner")
    channel = "phone"
    subject = factory.Faker("sentence", nb_words=4)
    content = factory.Faker("paragraph")
    occurred_at = factory.LazyFunction(timezone.now)


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "followups.FollowUp"

    customer = factory.SubFactory(CustomerFactory)
    assignee = factory.SelfAttribute("customer.owner")
    subject = factory.Faker("sentence", nb_words=4)
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Product"

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    series = "Sensors"
    unit_price = Decimal("100.00")


def first_open_stage():
    from opportunities.models import Stage

    return Stage.objects.open().first()


class OpportunityFactory(factory.django.DjangoModelFactory):
    """A row as it is stored; tests of behaviour create opportunities through the services instead."""

    class Meta:
        model = "opportunities.Opportunity"
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda opportunity: opportunity.customer.owner)
    title = factory.Faker("catch_phrase")
    stage = factory.LazyFunction(first_open_stage)
    probability = factory.LazyAttribute(lambda opportunity: opportunity.stage.probability)
    amount = Decimal("1000.00")
    expected_close_date = factory.LazyFunction(lambda: date.today() + timedelta(days=30))
