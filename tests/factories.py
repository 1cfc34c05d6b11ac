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
    name = factory.Faker("catch_phrase")
    series = "Sensors"
    unit_price = factory.Faker("pydecimal", left_digits=4, right_digits=2, positive=True)
