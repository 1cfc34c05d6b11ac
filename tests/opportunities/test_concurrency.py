"""Two people acting on one opportunity at once, on PostgreSQL (threads with their own connections):
one wins, the other is told where the opportunity is now, and nothing is written twice."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import translation

from opportunities import services
from opportunities.models import Opportunity, OpportunityEvent, Stage
from orders.models import Order
from tests.conftest import POSTGRESQL_ONLY

pytestmark = [pytest.mark.django_db(transaction=True), POSTGRESQL_ONLY]


@pytest.fixture(autouse=True)
def default_stages(db):
    """The stages the data migration installs: an earlier test of several transactions emptied the tables."""
    if not Stage.objects.exists():
        importlib.import_module("opportunities.migrations.0002_default_stages").create(apps, None)


def _at_once(run_together, opportunity, *acts):
    """Runs each act(seen copy, stage the user saw) from the same starting point, in English."""

    def runner(act):
        def run(barrier):
            seen = Opportunity.objects.select_related("stage").get(pk=opportunity.pk)
            barrier.wait()
            with translation.override("en"):
                return act(seen, seen.stage)

        return run

    return run_together(*[runner(act) for act in acts])


def _outcomes(results):
    won = [result for result in results if isinstance(result, Opportunity)]
    refused = [result for result in results if isinstance(result, ValidationError)]
    assert len(won) + len(refused) == len(results), results
    return won, refused


def test_two_people_winning_at_once_make_one_order(run_together, new_opportunity, sales1, manager, customer1):
    opportunity = new_opportunity(sales1, customer1, stage="decision")

    def win(user):
        return lambda seen, stage: services.mark_won(
            actor=user, opportunity=seen, note=f"by {user}", from_stage=stage
        )

    won, refused = _outcomes(_at_once(run_together, opportunity, win(sales1), win(manager)))
    assert len(won) == 1 and len(refused) == 1
    assert isinstance(refused[0], services.OpportunityConflict)
    assert refused[0].messages == [
        "Someone else moved this opportunity meanwhile: it is now in “Won”. "
        "Nothing was changed; check it and try again."
    ]
    opportunity.refresh_from_db()
    assert Order.objects.count() == 1 and opportunity.order == Order.objects.get()
    assert Order.objects.get().source_opportunity.pk == opportunity.pk
    assert OpportunityEvent.objects.filter(opportunity=opportunity, to_stage__kind="won").count() == 1


def test_winning_and_moving_at_once_one_happens_the_other_is_told(
    run_together, new_opportunity, stages, sales1, manager, customer1
):
    opportunity = new_opportunity(sales1, customer1, stage="evaluate")
    events_before = OpportunityEvent.objects.filter(opportunity=opportunity).count()

    def win(seen, stage):
        return services.mark_won(actor=sales1, opportunity=seen, from_stage=stage)

    def move(seen, stage):
        return services.move_stage(
            actor=manager, opportunity=seen, stage=stages["decision"], from_stage=stage
        )

    won, refused = _outcomes(_at_once(run_together, opportunity, win, move))
    assert len(won) == 1 and len(refused) == 1
    assert isinstance(refused[0], services.OpportunityConflict)
    opportunity.refresh_from_db()
    assert opportunity.stage_id == won[0].stage_id
    assert refused[0].current_stage.pk == opportunity.stage_id
    assert Order.objects.count() == (1 if opportunity.stage.kind == "won" else 0)
    assert OpportunityEvent.objects.filter(opportunity=opportunity).count() == events_before + 1


def test_two_people_losing_and_winning_without_a_seen_stage_still_close_it_once(
    run_together, new_opportunity, sales1, manager, customer1
):
    """Callers that pass no stage (the admin, a command) are refused by the row lock and the open check."""
    opportunity = new_opportunity(sales1, customer1, stage="decision")

    def win(seen, stage):
        return services.mark_won(actor=sales1, opportunity=seen)

    def lose(seen, stage):
        return services.mark_lost(actor=manager, opportunity=seen, reason="Budget cut")

    won, refused = _outcomes(_at_once(run_together, opportunity, win, lose))
    assert len(won) == 1 and len(refused) == 1
    opportunity.refresh_from_db()
    assert refused[0].messages == [
        f"This opportunity is already “{opportunity.stage.name_en}”: reopen it first."
    ]
    assert (opportunity.won_at is None) != (opportunity.lost_at is None)
    assert Order.objects.count() == (1 if opportunity.won_at else 0)
