import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation

from followups import services
from followups.models import FollowUp
from tests.factories import FollowUpFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks are PostgreSQL's; SQLite writes one at a time"
    ),
]


def test_two_people_completing_at_once_one_wins_the_other_is_told(sales1, sales2):
    followup = FollowUpFactory(customer__owner=sales1, assignee=sales2)
    copies = {user: FollowUp.objects.select_related("customer").get() for user in (sales1, sales2)}
    barrier, outcomes = threading.Barrier(2), {}

    def complete(user):
        try:
            barrier.wait()
            with translation.override("en"):
                services.complete_followup(
                    actor=user, followup=copies[user], result=f"done by {user.username}"
                )
            outcomes[user.username] = "done"
        except ValidationError as error:
            outcomes[user.username] = error.messages[0]
        finally:
            connection.close()

    threads = [threading.Thread(target=complete, args=(user,)) for user in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes.values()) == ["This follow-up is no longer open: it is done.", "done"]
    followup.refresh_from_db()
    winner = next(name for name, outcome in outcomes.items() if outcome == "done")
    assert followup.result == f"done by {winner}" and followup.history.count() == 2
