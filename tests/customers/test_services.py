from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from crm.history import parse_reason
from customers import selectors, services
from customers.models import ContactMethod, ContactPerson, Customer, Need, Tag
from tests.factories import ContactMethodFactory, CustomerFactory, NeedFactory

pytestmark = pytest.mark.django_db


def test_create_customer_normalises_name_phone_and_email(sales1):
    customer = services.create_customer(
        actor=sales1,
        name="  上海   华东科技 ",
        contact_methods=[
            {"type": "mobile", "value": "138 0013 8000"},
            {"type": "email", "value": " Sales@HuaDong.CN "},
            {"type": "phone", "value": "+44 20 7946 0958"},
        ],
    )
    assert customer.name == "上海 华东科技" and customer.owner == sales1
    values = dict(customer.contact_methods.values_list("type", "value"))
    assert values == {"mobile": "+8613800138000", "email": "sales@huadong.cn", "phone": "+442079460958"}
    assert customer.history.count() == 1


@pytest.mark.parametrize(
    ("method_type", "value"),
    [
        ("mobile", "12345"),
        ("phone", "not a phone"),
        ("email", "no-at-sign"),
        ("qq", "12ab"),
        ("website", "http://"),
    ],
)
def test_malformed_contact_values_are_refused_and_nothing_is_written(sales1, method_type, value):
    with pytest.raises(ValidationError) as error:
        services.create_customer(
            actor=sales1, name="Acme", contact_methods=[{"type": method_type, "value": value}]
        )
    assert "contact_methods-0" in error.value.message_dict
    assert not Customer.objects.exists() and not ContactMethod.objects.exists()


def test_empty_name_is_refused(sales1):
    with pytest.raises(ValidationError) as error:
        services.create_customer(actor=sales1, name="   ")
    assert "name" in error.value.message_dict
    assert not Customer.objects.exists()


def test_database_refuses_an_empty_name_even_past_the_services(sales1):
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(name="", owner=sales1)


def test_sales_staff_cannot_create_for_someone_else(sales1, sales2):
    with pytest.raises(PermissionDenied):
        services.create_customer(actor=sales1, name="Acme", owner=sales2)
    assert not Customer.objects.exists()


def test_managers_create_for_anyone(manager, sales2):
    assert services.create_customer(actor=manager, name="Acme", owner=sales2).owner == sales2


def test_only_the_owner_or_a_manager_may_change_a_customer(sales1, sales2, manager):
    customer = CustomerFactory(owner=sales1, name="Old")
    with pytest.raises(PermissionDenied):
        services.update_customer(actor=sales2, customer=customer, name="Hijacked")
    services.update_customer(actor=manager, customer=customer, name="New")
    customer.refresh_from_db()
    assert customer.name == "New"


def test_person_fields_only_stay_on_people(sales1):
    customer = services.create_customer(actor=sales1, name="Acme", kind="organisation", gender="female")
    assert customer.gender == ""
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(gender="female")


def test_first_method_of_a_type_is_primary_and_primary_moves(sales1):
    customer = CustomerFactory(owner=sales1)
    first = services.add_contact_method(actor=sales1, customer=customer, type="mobile", value="13800138000")
    second = services.add_contact_method(
        actor=sales1, customer=customer, type="mobile", value="13900139000", is_primary=True
    )
    first.refresh_from_db()
    assert second.is_primary and not first.is_primary
    services.remove_contact_method(actor=sales1, method=second)
    first.refresh_from_db()
    assert first.is_primary


def test_one_primary_per_type_is_a_database_constraint(sales1):
    customer = CustomerFactory(owner=sales1)
    ContactMethodFactory(customer=customer, is_primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactMethodFactory(customer=customer, is_primary=True)


def test_the_same_method_twice_is_refused(sales1):
    customer = CustomerFactory(owner=sales1)
    services.add_contact_method(actor=sales1, customer=customer, type="email", value="a@b.cn")
    with pytest.raises(ValidationError):
        services.add_contact_method(actor=sales1, customer=customer, type="email", value="A@B.cn")
    assert customer.contact_methods.count() == 1


def test_contact_person_phone_and_email_are_normalised(sales1):
    customer = CustomerFactory(owner=sales1)
    person = services.add_contact_person(
        actor=sales1, customer=customer, name="王伟", phone="021 6234 5678", email="WW@X.CN"
    )
    assert (person.phone, person.email) == ("+862162345678", "ww@x.cn")
    with pytest.raises(ValidationError) as error:
        services.add_contact_person(actor=sales1, customer=customer, name="李娜", phone="123")
    assert "phone" in error.value.message_dict
    assert ContactPerson.objects.count() == 1


def test_needs_are_raised_resolved_and_reopened(sales1):
    customer = CustomerFactory(owner=sales1)
    need = services.raise_need(
        actor=sales1, customer=customer, description="200 sensors by March", priority="high"
    )
    assert need.status == "open" and need.resolved_at is None and need.raised_by == sales1
    services.resolve_need(actor=sales1, need=need, status="met")
    assert need.resolved_at is not None
    services.update_need(actor=sales1, need=need, status="in_progress")
    assert need.resolved_at is None
    assert need.history.count() == 3
    with pytest.raises(ValidationError):
        services.raise_need(actor=sales1, customer=customer, description="  ")
    assert Need.objects.count() == 1


def test_reassign_and_tag_are_for_managers_and_keep_history(sales1, sales2, manager):
    customers = [CustomerFactory(owner=sales1) for _ in range(3)]
    with pytest.raises(PermissionDenied):
        services.reassign_owner(actor=sales1, customers=customers, new_owner=sales2)
    assert services.reassign_owner(actor=manager, customers=customers, new_owner=sales2) == 3
    assert set(Customer.objects.values_list("owner", flat=True)) == {sales2.pk}
    latest = customers[0].history.first()
    assert latest.history_user == manager and latest.owner_id == sales2.pk
    tag = services.add_tag(actor=manager, customers=customers, tag_name=" VIP ")
    services.add_tag(actor=manager, customers=customers, tag_name="vip")
    assert Tag.objects.count() == 1 and tag.customers.count() == 3


def test_merge_moves_everything_and_deduplicates_methods(sales1):
    survivor = CustomerFactory(owner=sales1, name="华东科技")
    merged = CustomerFactory(owner=sales1, name="华东科技有限公司")
    services.add_contact_method(actor=sales1, customer=survivor, type="mobile", value="13800138000")
    services.add_contact_method(actor=sales1, customer=merged, type="mobile", value="13800138000")
    services.add_contact_method(actor=sales1, customer=merged, type="mobile", value="13900139000")
    services.add_contact_method(actor=sales1, customer=merged, type="email", value="a@b.cn")
    services.add_contact_person(actor=sales1, customer=merged, name="王伟")
    need = NeedFactory(customer=merged)
    merged.tags.add(Tag.objects.create(name="VIP"))

    merged_pk = merged.pk
    services.merge_customers(actor=sales1, survivor=survivor, merged=merged)

    assert not Customer.objects.filter(pk=merged_pk).exists()
    methods = list(survivor.contact_methods.values_list("type", "value", "is_primary"))
    assert sorted(methods) == [
        ("email", "a@b.cn", True),
        ("mobile", "+8613800138000", True),
        ("mobile", "+8613900139000", False),
    ]
    assert survivor.contact_persons.get().name == "王伟"
    need.refresh_from_db()
    assert need.customer == survivor
    assert list(survivor.tags.values_list("name", flat=True)) == ["VIP"]
    assert parse_reason(survivor.history.first().history_change_reason) == (
        "merged_from",
        {"customer": merged_pk, "name": "华东科技有限公司", "tags_added": ["VIP"]},
    )
    assert Customer.history.filter(id=merged_pk, history_type="-").exists()


def test_merge_needs_a_manager_or_the_owner_of_both(sales1, sales2, manager):
    mine, theirs = CustomerFactory(owner=sales1), CustomerFactory(owner=sales2)
    with pytest.raises(PermissionDenied):
        services.merge_customers(actor=sales1, survivor=mine, merged=theirs)
    with pytest.raises(ValidationError):
        services.merge_customers(actor=manager, survivor=mine, merged=mine)
    assert Customer.objects.count() == 2
    services.merge_customers(actor=manager, survivor=mine, merged=theirs)
    assert Customer.objects.count() == 1


def test_duplicates_by_contact_value_and_name(sales1, sales2):
    theirs = services.create_customer(
        actor=sales2, name="Acme Trading", contact_methods=[{"type": "email", "value": "info@acme.cn"}]
    )
    found = selectors.duplicate_warnings(sales1, "Something else", ["info@acme.cn"])
    assert [(d["customer"], d["reasons"], d["visible"]) for d in found] == [(theirs, ["contact"], False)]
    by_name = selectors.duplicate_warnings(sales2, "acme trading", [])
    assert [d["customer"] for d in by_name] == [theirs] and by_name[0]["visible"]
    assert selectors.duplicate_warnings(sales2, "Acme Trading", [], exclude_pk=theirs.pk) == []


def test_similar_names_use_trigrams_on_postgresql(sales1):
    services.create_customer(actor=sales1, name="上海华东科技有限公司")
    found = [d["customer"].name for d in selectors.duplicate_warnings(sales1, "上海华东科技公司", [])]
    if connection.vendor == "postgresql":
        assert found == ["上海华东科技有限公司"]
    else:  # SQLite degrades to an exact, case-insensitive name match
        assert found == []


def test_search_finds_name_phone_fragment_email_and_contact_person(sales1):
    customer = services.create_customer(
        actor=sales1,
        name="Acme Trading",
        contact_methods=[
            {"type": "mobile", "value": "13800138000"},
            {"type": "email", "value": "info@acme.cn"},
        ],
    )
    services.add_contact_person(actor=sales1, customer=customer, name="王伟", email="wang@acme.cn")
    CustomerFactory(owner=sales1, name="Other")
    visible = Customer.objects.visible_to(sales1)
    for text in ["acme", "0013 8000", "138-0013", "INFO@acme", "王伟", "wang@"]:
        assert list(selectors.search_customers(visible, text)) == [customer], text


def test_bulk_create_reports_invalid_specs_and_creates_the_valid_ones_as_create_customer_would(manager):
    vip = Tag.objects.create(name="VIP")
    specs: list[dict[str, Any]] = [
        {
            "name": "  Acme   Ltd ",
            "tags": [vip],
            "contact_methods": [
                {"type": "mobile", "value": "138 0013 8000"},
                {"type": "email", "value": "a@acme.cn"},
                {"type": "email", "value": "B@acme.cn", "is_primary": True},
            ],
        },
        {"name": "   ", "contact_methods": [{"type": "mobile", "value": "13900139000"}]},
        {"name": "Bad Phone", "contact_methods": [{"type": "mobile", "value": "12345"}]},
        {"name": "Beta", "kind": "organisation", "gender": "female"},
    ]
    acme, no_name, bad_phone, beta = services.bulk_create_customers(actor=manager, specs=specs)

    assert isinstance(no_name, ValidationError) and "name" in no_name.message_dict
    assert isinstance(bad_phone, ValidationError) and "contact_methods-0" in bad_phone.message_dict
    assert isinstance(acme, Customer) and isinstance(beta, Customer)
    assert set(Customer.objects.values_list("name", flat=True)) == {"Acme Ltd", "Beta"}
    assert (acme.pk, acme.owner, beta.gender) == (Customer.objects.get(name="Acme Ltd").pk, manager, "")
    assert list(acme.tags.all()) == [vip]
    assert sorted(acme.contact_methods.values_list("type", "value", "is_primary")) == [
        ("email", "a@acme.cn", False),
        ("email", "b@acme.cn", True),
        ("mobile", "+8613800138000", True),
    ]
    assert ContactMethod.objects.count() == 3
    history = Customer.history.order_by("id")
    assert [(h.id, h.history_type, h.history_user, h.name) for h in history] == [
        (acme.pk, "+", manager, "Acme Ltd"),
        (beta.pk, "+", manager, "Beta"),
    ]
    assert history[0].created_at == acme.created_at


def test_bulk_create_keeps_the_rule_that_sales_staff_create_for_themselves_only(sales1, sales2, manager):
    specs = [{"name": "Mine"}, {"name": "Theirs", "owner": sales2}]
    with pytest.raises(PermissionDenied):
        services.bulk_create_customers(actor=sales1, specs=specs)
    assert not Customer.objects.exists()
    mine, theirs = services.bulk_create_customers(actor=manager, specs=specs)
    assert isinstance(mine, Customer) and isinstance(theirs, Customer)
    assert (mine.owner, theirs.owner) == (manager, sales2)


def test_bulk_create_falls_back_to_one_by_one_when_the_database_refuses_the_batch(sales1, monkeypatch):
    # A validation gap stands in for a constraint the services do not check: the database's
    # non-empty name constraint refuses the second spec.
    monkeypatch.setattr(Customer, "full_clean", lambda self, **kwargs: None)
    specs = [
        {"name": "Acme", "contact_methods": [{"type": "email", "value": "a@acme.cn"}]},
        {"name": "", "contact_methods": [{"type": "email", "value": "x@x.cn"}]},
        {"name": "Beta", "contact_methods": [{"type": "email", "value": "b@beta.cn"}]},
    ]
    with translation.override("en"):
        acme, refused, beta = services.bulk_create_customers(actor=sales1, specs=specs)
    assert isinstance(acme, Customer) and isinstance(refused, ValidationError) and isinstance(beta, Customer)
    assert refused.messages[0].startswith("The database refused this customer:")
    assert set(Customer.objects.values_list("name", flat=True)) == {"Acme", "Beta"}
    assert set(ContactMethod.objects.values_list("customer__name", "value")) == {
        ("Acme", "a@acme.cn"),
        ("Beta", "b@beta.cn"),
    }
    assert Customer.history.count() == 2 and acme.pk and beta.pk


def test_bulk_create_works_one_by_one_where_the_database_returns_no_new_ids(sales1, monkeypatch):
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    (acme,) = services.bulk_create_customers(
        actor=sales1,
        specs=[{"name": "Acme", "contact_methods": [{"type": "mobile", "value": "13800138000"}]}],
    )
    assert isinstance(acme, Customer)
    assert acme.contact_methods.get().value == "+8613800138000" and acme.history.count() == 1


def test_tag_names_are_cleaned_and_checked_as_add_tag_does():
    assert services.clean_tag_name("  Key   account ") == "Key account"
    for name in ["   ", "x" * 51]:
        with pytest.raises(ValidationError):
            services.clean_tag_name(name)
