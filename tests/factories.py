from datetime import timedelta

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
    name = factory.Faker("catch_phrase")
    series = "Sensors"
    unit_price = factory.Faker("pydecimal", left_digits=4, right_digits=2, positive=True)
