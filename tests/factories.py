from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

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


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Product"

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
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
