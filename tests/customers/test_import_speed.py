"""What makes a large import fast must not change what it decides: phone numbers read without
phonenumbers.parse are read as it reads them, and the field rules that vouch for a row without
full_clean accept exactly what full_clean accepts."""

import gc
import random

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from crm.importing import Row, Table, full_collections_deferred
from crm.validation import text_fields_valid
from customers import services
from customers.importing import run_import
from customers.models import ContactMethod, Customer
from customers.normalise import _e164, _national_number, normalise_contact_value, remembering_values

PREFIXES = ["", "1", "13", "17", "179", "11", "12", "86", "0", "00", "4", "44", "2", "7", "8", "9"]


def parsed(value, region):
    """The E.164 form phonenumbers gives, the slow way."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, 0) if phonenumbers.is_valid_number(number) else None


@pytest.mark.parametrize("region", ["CN", "GB", "US", "HK", "DE"])
def test_plain_digits_are_read_as_phonenumbers_reads_them(region):
    generator = random.Random(region)
    values = [
        generator.choice(PREFIXES) + "".join(generator.choices("0123456789", k=generator.randint(0, 15)))
        for _ in range(4000)
    ]
    values = [value for value in values if value] + ["13800138000", "8613800138000", "17951234567"]
    read_fast = [value for value in values if _national_number(value, region)]
    assert len(read_fast) > len(values) / 3  # the fast way is taken, not always refused
    fast = [_e164.__wrapped__(value, region) for value in values]
    assert fast == [parsed(value, region) for value in values]


def test_remembered_values_are_normalised_once_and_forgotten_after(monkeypatch):
    calls = []

    def e164(value, region):
        calls.append(value)
        return "+1"

    monkeypatch.setattr("customers.normalise._e164", e164)
    with remembering_values():
        assert [normalise_contact_value("mobile", "1") for _ in range(3)] == ["+1"] * 3
        with pytest.raises(ValidationError):
            normalise_contact_value("email", "not-an-email")
    normalise_contact_value("mobile", "1")
    assert calls == ["1", "1"]


VALUES = [
    {"name": "Acme"},
    {"name": ""},
    {"name": "x" * 200},
    {"name": "x" * 201},
    {"name": "Acme", "lifecycle_stage": "active", "source": "referral", "size": ""},
    {"name": "Acme", "lifecycle_stage": "Active"},
    {"name": "Acme", "kind": "robot"},
    {"name": "Acme", "region": "上" * 101},
    {"name": "Acme", "notes": "n" * 10_000},
    {"region": "上海"},
    {"name": "Acme", "birth_date": None},
]


@pytest.mark.parametrize("values", VALUES)
def test_the_field_rules_vouch_only_for_what_full_clean_accepts(values, sales1):
    customer = Customer(owner=sales1, **values)
    try:
        services._validate_customer(customer, values)
    except ValidationError:
        accepted = False
    else:
        accepted = True
    assert not text_fields_valid(Customer, values) or accepted
    if "birth_date" not in values:  # a field the rules leave to full_clean
        assert text_fields_valid(Customer, values) == accepted


@pytest.mark.parametrize(
    "values",
    [
        {"type": "mobile", "value": "+8613800138000"},
        {"type": "fax", "value": "1"},
        {"type": "email", "value": ""},
    ],
)
def test_the_field_rules_judge_contact_methods_as_full_clean_does(values):
    method = ContactMethod(**values)
    try:
        method.full_clean(exclude=["customer"], validate_constraints=False)
    except ValidationError:
        accepted = False
    else:
        accepted = True
    assert text_fields_valid(ContactMethod, values) == accepted


@pytest.mark.django_db
def test_a_refused_spec_keeps_the_messages_of_full_clean(manager):
    specs: list[dict[str, object]] = [
        {"name": "x" * 201, "contact_methods": [{"type": "mobile", "value": "13800138000"}]},
        {"name": "Acme", "lifecycle_stage": "robot"},
        {"name": "Beta", "contact_methods": [{"type": "mobile", "value": "12345"}]},
    ]
    results = services.bulk_create_customers(actor=manager, specs=specs)
    assert all(isinstance(result, ValidationError) for result in results)
    with translation.override("en"):  # the messages are translated when read
        long_name, bad_stage, bad_phone = (
            result.message_dict for result in results if isinstance(result, ValidationError)
        )
    assert long_name == {"name": ["Ensure this value has at most 200 characters (it has 201)."]}
    assert bad_stage == {"lifecycle_stage": ["Value 'robot' is not a valid choice."]}
    assert list(bad_phone) == ["contact_methods-0"]
    assert not Customer.objects.exists()


def test_an_import_makes_no_full_collection_and_restores_the_collector(sales1):
    full_collections = []

    def note(phase, info):
        if phase == "start" and info["generation"] == 2:
            full_collections.append(info)

    thresholds = gc.get_threshold()
    table = Table(["名称", "手机"], [Row(n + 2, [f"客户 {n}", f"139{n:08d}"]) for n in range(3000)])
    gc.callbacks.append(note)
    try:
        gc.set_threshold(50, 1, 1)  # a full collection about every hundred objects that survive
        report = run_import(actor=sales1, table=table, mapping=["name", "mobile"], commit=True)
        restored = gc.get_threshold()
    finally:
        gc.callbacks.remove(note)
        gc.set_threshold(*thresholds)
    assert report.created == 3000
    assert full_collections == []
    assert restored == (50, 1, 1)


def test_the_collector_is_restored_when_an_import_fails():
    thresholds = gc.get_threshold()
    with pytest.raises(RuntimeError), full_collections_deferred():
        assert gc.get_threshold()[2] > 10**9
        raise RuntimeError
    assert gc.get_threshold() == thresholds
