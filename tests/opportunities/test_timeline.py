"""Opportunities on the customer's timeline: created, moved, won, lost, reopened."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from crm import timeline
from opportunities import services
from opportunities.models import OpportunityEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def opportunity_entries(customer):
    return [
        entry for entry in timeline.customer_timeline(customer).entries if entry.kind == "opportunity_event"
    ]


def test_every_stage_change_is_on_the_timeline_newest_first(
    sales_client, sales1, customer1, stages, new_opportunity
):
    opportunity = new_opportunity(sales1, customer1)
    services.move_stage(
        actor=sales1, opportunity=opportunity, stage=stages["qualify"], note="Budget confirmed"
    )
    services.mark_lost(actor=sales1, opportunity=opportunity, reason="Went with a competitor")
    services.reopen(actor=sales1, opportunity=opportunity)
    services.mark_won(actor=sales1, opportunity=opportunity)
    start = timezone.now() - timedelta(hours=10)
    for hours, event in enumerate(OpportunityEvent.objects.order_by("at", "id")):
        OpportunityEvent.objects.filter(pk=event.pk).update(at=start + timedelta(hours=hours))

    assert [entry.item.type for entry in opportunity_entries(customer1)] == [
        "won",
        "reopened",
        "lost",
        "stage_moved",
        "created",
    ]
    content = sales_client.get(reverse("customers:timeline", args=[customer1.pk]), HTTP_HX_REQUEST="true")
    content = content.content.decode()
    titles = ["Opportunity won", "Opportunity reopened", "Opportunity lost", "Opportunity moved"]
    positions = [content.index(f"{title}: <a") for title in [*titles, "Opportunity created"]]
    assert positions == sorted(positions)
    assert "Went with a competitor" in content and "Budget confirmed" in content
    assert (
        "Moved from Capture to Qualify" in content and f'href="{opportunity.get_absolute_url()}"' in content
    )


def test_only_the_customers_own_opportunities(sales1, sales2, customer1, customer2, new_opportunity):
    new_opportunity(sales2, customer2)
    mine = new_opportunity(sales1, customer1)
    assert [entry.item.opportunity for entry in opportunity_entries(customer1)] == [mine]
