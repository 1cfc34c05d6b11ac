from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from opportunities import services
from opportunities.models import Opportunity, ScoringWeights
from tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

DEFAULTS = {
    "segmentation": Decimal("0.30"),
    "characteristics": Decimal("0.20"),
    "relationship": Decimal("0.30"),
    "resources": Decimal("0.20"),
}
SCORES = {"segmentation": 80, "characteristics": 60, "relationship": 50, "resources": 40}


def scored(**scores):
    return {f"score_{factor}": value for factor, value in scores.items()}


def test_the_default_weights_are_installed():
    assert ScoringWeights.current().as_dict() == DEFAULTS


def test_the_value_score_is_the_weighted_sum_of_the_factors():
    # 0.3·80 + 0.2·60 + 0.3·50 + 0.2·40 = 24 + 12 + 15 + 8
    assert services.weighted_sum(DEFAULTS, SCORES) == Decimal("59.00")
    weights = {
        "segmentation": Decimal("0.25"),
        **dict.fromkeys(["characteristics", "relationship"], Decimal("0.25")),
    }
    weights["resources"] = Decimal("0.25")
    assert services.weighted_sum(weights, {**SCORES, "resources": 45}) == Decimal("58.75")
    assert services.weighted_sum(DEFAULTS, dict.fromkeys(SCORES, 100)) == Decimal("100.00")
    assert services.weighted_sum(DEFAULTS, dict.fromkeys(SCORES, 0)) == 0


def test_the_stored_value_score_follows_the_factors(sales1, customer1, new_opportunity):
    opportunity = new_opportunity(sales1, customer1, **scored(**SCORES))
    assert opportunity.value_score == Decimal("59.00")
    services.update_opportunity(actor=sales1, opportunity=opportunity, score_resources=90)
    opportunity.refresh_from_db()
    assert opportunity.value_score == Decimal("69.00")


def test_factors_outside_0_to_100_are_refused(sales1, customer1, new_opportunity):
    opportunity = new_opportunity(sales1, customer1)
    with pytest.raises(ValidationError) as refused:
        services.update_opportunity(actor=sales1, opportunity=opportunity, score_segmentation=101)
    assert "score_segmentation" in refused.value.message_dict


def test_new_weights_recompute_every_stored_score(manager, sales1, customer1, new_opportunity):
    first = new_opportunity(sales1, customer1, **scored(**SCORES))
    second = new_opportunity(
        sales1, customer1, **scored(segmentation=10, characteristics=20, relationship=30, resources=100)
    )
    services.update_scoring_weights(
        actor=manager, segmentation="0.40", characteristics="0.10", relationship="0.40", resources="0.10"
    )
    assert ScoringWeights.current().segmentation == Decimal("0.40")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.value_score == Decimal("62.00")  # 32 + 6 + 20 + 4
    assert second.value_score == Decimal("28.00")  # 4 + 2 + 12 + 10
    assert ScoringWeights.current().history.first().history_user == manager


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (
            {"segmentation": "0.30", "characteristics": "0.30", "relationship": "0.30", "resources": "0.30"},
            "1.20",
        ),
        (
            {"segmentation": "0.30", "characteristics": "0.20", "relationship": "0.30", "resources": "0.10"},
            "0.90",
        ),
    ],
)
def test_weights_that_do_not_add_up_to_1_are_refused(
    weights, message, manager, sales1, customer1, new_opportunity
):
    opportunity = new_opportunity(sales1, customer1, **scored(**SCORES))
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        services.update_scoring_weights(actor=manager, **weights)
    assert refused.value.messages == [f"The weights add up to {message}; they must add up to exactly 1."]
    assert ScoringWeights.current().as_dict() == DEFAULTS
    opportunity.refresh_from_db()
    assert opportunity.value_score == Decimal("59.00")


@pytest.mark.parametrize("bad", ["-0.10", "1.10", "0.125"])
def test_each_weight_is_between_0_and_1_with_two_decimals(bad, manager):
    weights = {"segmentation": bad, "characteristics": "0.20", "relationship": "0.30", "resources": "0.20"}
    with pytest.raises(ValidationError) as refused:
        services.update_scoring_weights(actor=manager, **weights)
    assert "segmentation" in refused.value.message_dict
    assert ScoringWeights.current().as_dict() == DEFAULTS


def test_only_managers_set_the_weights(sales1):
    with pytest.raises(PermissionDenied):
        services.update_scoring_weights(
            actor=sales1, segmentation="0.25", characteristics="0.25", relationship="0.25", resources="0.25"
        )
    assert ScoringWeights.current().as_dict() == DEFAULTS


def test_the_database_refuses_weights_that_do_not_add_up():
    with pytest.raises(IntegrityError), transaction.atomic():
        ScoringWeights.objects.filter(pk=1).update(resources=Decimal("0.50"))


def test_the_admin_refuses_weights_that_do_not_add_up(
    manager_client, manager, sales1, customer1, new_opportunity
):
    opportunity = new_opportunity(sales1, customer1, **scored(**SCORES))
    url = reverse("admin:opportunities_scoringweights_change", args=[1])
    bad = {"segmentation": "0.50", "characteristics": "0.20", "relationship": "0.30", "resources": "0.20"}
    with translation.override("en"):
        response = manager_client.post(url, bad, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "must add up to exactly 1" in response.content.decode()
    assert ScoringWeights.current().as_dict() == DEFAULTS
    good = {"segmentation": "0.10", "characteristics": "0.20", "relationship": "0.30", "resources": "0.40"}
    assert manager_client.post(url, good).status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.value_score == Decimal("51.00")  # 8 + 12 + 15 + 16
    assert manager_client.get(reverse("admin:opportunities_scoringweights_changelist")).status_code == 302


@pytest.mark.parametrize(("confirmed", "score"), [(0, 0), (1, 25), (2, 50), (3, 75), (4, 100)])
def test_the_bant_qualification_score(confirmed, score):
    items = dict.fromkeys([f"{item}_confirmed" for item in Opportunity.BANT[:confirmed]], True)
    assert Opportunity(**items).qualification_score == score


def test_the_expected_value_is_amount_times_probability():
    assert Opportunity(amount=Decimal("1234.56"), probability=35).expected_value == Decimal("432.10")
    assert Opportunity(amount=Decimal("1000"), probability=0).expected_value == Decimal("0.00")


def test_the_detail_page_explains_the_score_factor_by_factor(
    sales_client, sales1, customer1, new_opportunity
):
    opportunity = new_opportunity(
        sales1, customer1, **scored(**SCORES), budget_confirmed=True, budget_note="Approved"
    )
    with translation.override("en"):
        page = sales_client.get(opportunity.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for contribution in ("24.00", "12.00", "15.00", "8.00", "59.00"):
        assert contribution in page
    assert "× 0.30" in page and "× 0.20" in page
    assert "Approved" in page
    assert 'data-testid="qualification-score">25<' in page


def test_an_opportunity_stored_directly_keeps_scores_in_range(customer1):
    with pytest.raises(IntegrityError), transaction.atomic():
        OpportunityFactory(customer=customer1, score_relationship=150)
