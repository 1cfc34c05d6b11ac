import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from opportunities import services
from opportunities.models import Stage

pytestmark = pytest.mark.django_db


def test_managers_open_every_opportunities_admin_page(manager_client, sales1, customer1, new_opportunity):
    opportunity = new_opportunity(sales1, customer1)
    pages = [
        reverse("admin:opportunities_stage_changelist"),
        reverse("admin:opportunities_stage_change", args=[Stage.objects.get(code="evaluate").pk]),
        reverse("admin:opportunities_stage_add"),
        reverse("admin:opportunities_opportunity_changelist"),
        reverse("admin:opportunities_opportunity_change", args=[opportunity.pk]),
        reverse("admin:opportunities_opportunity_history", args=[opportunity.pk]),
        reverse("admin:opportunities_scoringweights_change", args=[1]),
    ]
    for page in pages:
        assert manager_client.get(page).status_code == 200, page
    assert manager_client.get(reverse("admin:opportunities_opportunity_add")).status_code == 403


def readonly_fields(client, stage):
    page = client.get(reverse("admin:opportunities_stage_change", args=[stage.pk]))
    return set(page.context["adminform"].readonly_fields)


def test_a_stage_in_use_keeps_its_kind_and_code(manager_client, sales1, customer1, new_opportunity):
    new_opportunity(sales1, customer1, stage="evaluate")
    assert readonly_fields(manager_client, Stage.objects.get(code="evaluate")) == {"code", "kind"}
    unused = Stage.objects.create(code="negotiation", name_en="Negotiation", name_zh_hans="谈判", position=45)
    assert readonly_fields(manager_client, unused) == set()


def test_the_admin_refuses_a_second_won_stage_and_a_won_stage_below_100(manager_client):
    data = {"code": "won2", "name_en": "Won again", "name_zh_hans": "再赢", "position": 99, "kind": "won"}
    response = manager_client.post(reverse("admin:opportunities_stage_add"), {**data, "probability": 100})
    assert response.status_code == 200 and response.context["adminform"].form.errors
    response = manager_client.post(
        reverse("admin:opportunities_stage_add"), {**data, "kind": "open", "code": "late", "probability": 100}
    )
    assert response.status_code == 302
    assert Stage.objects.filter(code="late", kind="open").exists()
    assert not Stage.objects.filter(code="won2").exists()


def test_editing_an_opportunity_in_the_admin_goes_through_the_service(
    manager_client, manager, sales1, customer1, new_opportunity
):
    opportunity = new_opportunity(sales1, customer1)
    url = reverse("admin:opportunities_opportunity_change", args=[opportunity.pk])
    form = manager_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items() if v is not False}
    data.update(
        {
            "title": "Renamed in the admin",
            "score_segmentation": "100",
            "lines-TOTAL_FORMS": "2",
            "lines-INITIAL_FORMS": "2",
            "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000",
            "events-TOTAL_FORMS": "1",
            "events-INITIAL_FORMS": "1",
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "1000",
        }
    )
    response = manager_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    opportunity.refresh_from_db()
    assert opportunity.title == "Renamed in the admin"
    assert str(opportunity.value_score) == "30.00"  # recomputed by the service
    assert opportunity.history.first().history_user == manager


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_saving_a_won_or_lost_opportunity_shows_why_it_cannot_change(
    manager_client, admin_form, manager, sales1, customer1, new_opportunity, outcome
):
    opportunity = new_opportunity(sales1, customer1)
    if outcome == "won":
        services.mark_won(actor=sales1, opportunity=opportunity)
    else:
        services.mark_lost(actor=sales1, opportunity=opportunity, reason="Too expensive")
    url = reverse("admin:opportunities_opportunity_change", args=[opportunity.pk])
    history = opportunity.history.count()
    with translation.override("en"):
        response = manager_client.post(url, admin_form(manager_client, url), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "A won or lost opportunity cannot be changed; reopen it first."
    ]
    assert opportunity.history.count() == history


def test_the_service_keeps_the_kind_of_a_stage_in_use(sales1, customer1, new_opportunity):
    stage = Stage.objects.get(code="evaluate")
    new_opportunity(sales1, customer1, stage="evaluate")
    with pytest.raises(ValidationError):
        services.update_stage(actor=None, stage=stage, kind="lost", probability=0)
    stage.refresh_from_db()
    assert stage.kind == "open"


def test_scoring_weights_that_do_not_add_up_are_refused_at_the_form(manager_client):
    url = reverse("admin:opportunities_scoringweights_change", args=[1])
    data = {"segmentation": "0.5", "characteristics": "0.5", "relationship": "0.5", "resources": "0"}
    response = manager_client.post(url, data)
    assert response.status_code == 200 and response.context["adminform"].form.non_field_errors()


def test_the_stage_list_refuses_what_the_service_refuses_and_saves_nothing(manager_client):
    url = reverse("admin:opportunities_stage_changelist")
    formset = manager_client.get(url).context["cl"].formset
    data = {
        formset.management_form.add_prefix(name): value
        for name, value in formset.management_form.initial.items()
    }
    for form in formset.forms:
        data |= {form.add_prefix(name): form[name].value() for name in form.fields}
    won = next(form for form in formset.forms if form.instance.kind == "won")
    data[won.add_prefix("probability")] = 50
    data[formset.forms[0].add_prefix("name_en")] = "First contact"
    response = manager_client.post(url, {**data, "_save": "Save"})
    assert response.status_code == 200
    assert response.context["cl"].formset.forms[formset.forms.index(won)].non_field_errors()
    assert Stage.objects.get(kind="won").probability == 100
    assert not Stage.objects.filter(name_en="First contact").exists()  # the whole save was rolled back
