from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import factory
from django.contrib.auth.models import User
from django.db.models import Model
from django.utils import timezone

from customers.models import ContactMethod, Customer, Need
from followups.models import Communication, FollowUp
from opportunities.models import Opportunity, Stage
from orders.models import Product
from summaries.upkeep import count_deals

PASSWORD = "demo-Passw0rd"

ModelT = TypeVar("ModelT", bound=Model)


class ModelFactory(factory.django.DjangoModelFactory[ModelT]):
    """A factory whose call, `CustomerFactory(...)`, is typed as what it makes: a Customer."""

    class Meta:
        abstract = True

    if TYPE_CHECKING:
        # factory_boy's metaclass turns the call into create(); mypy reads only __new__.
        def __new__(cls, **kwargs: Any) -> ModelT: ...  # type: ignore[misc]


class UserFactory(ModelFactory[User]):
    class Meta:
        model = User
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


class CustomerFactory(ModelFactory[Customer]):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    name = factory.Faker("company", locale="zh_CN")
    owner = factory.SubFactory(UserFactory)
    lifecycle_stage = "active"


class ContactMethodFactory(ModelFactory[ContactMethod]):
    class Meta:
        model = ContactMethod

    customer = factory.SubFactory(CustomerFactory)
    type = "mobile"
    value = factory.Sequence(lambda n: f"+861380013{n:04d}")


class NeedFactory(ModelFactory[Need]):
    class Meta:
        model = Need

    customer = factory.SubFactory(CustomerFactory)
    description = factory.Faker("sentence")


class CommunicationFactory(ModelFactory[Communication]):
    class Meta:
        model = Communication

    customer = factory.SubFactory(CustomerFactory)
    staff = factory.SelfAttribute("customer.owner")
    channel = "phone"
    subject = factory.Faker("sentence", nb_words=4)
    content = factory.Faker("paragraph")
    occurred_at = factory.LazyFunction(timezone.now)


class FollowUpFactory(ModelFactory[FollowUp]):
    class Meta:
        model = FollowUp

    customer = factory.SubFactory(CustomerFactory)
    assignee = factory.SelfAttribute("customer.owner")
    subject = factory.Faker("sentence", nb_words=4)
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))


class ProductFactory(ModelFactory[Product]):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    series = "Sensors"
    unit_price = Decimal("100.00")


def first_open_stage():
    return Stage.objects.open().first()


class OpportunityFactory(ModelFactory[Opportunity]):
    """A row as it is stored; tests of behaviour create opportunities through the services instead."""

    class Meta:
        model = Opportunity
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda opportunity: opportunity.customer.owner)
    title = factory.Faker("catch_phrase")
    stage = factory.LazyFunction(first_open_stage)
    probability = factory.LazyAttribute(lambda opportunity: opportunity.stage.probability)
    amount = Decimal("1000.00")
    expected_close_date = factory.LazyFunction(lambda: date.today() + timedelta(days=30))

    @classmethod
    def _create(cls, model_class: type[Opportunity], *args: Any, **kwargs: Any) -> Opportunity:
        """Stored, and counted in the summaries as the services would."""
        opportunity = super()._create(model_class, *args, **kwargs)
        count_deals(Opportunity.objects.filter(pk=opportunity.pk))
        return opportunity
