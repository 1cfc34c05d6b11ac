"""Managers add, edit and deactivate users and teams in the app; a new user sets a password from the link
they get by e-mail and logs in."""

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse

from accounts.models import Membership, Team, UserEvent
from accounts.services import PASSWORD_TOKEN
from automation.models import OutgoingEmail
from automation.outbox import deliver
from customers.forms import active_users
from customers.models import Customer
from followups.models import FollowUp
from opportunities.models import Opportunity
from orders.models import Order
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_USER = {
    "first_name": "Wei",
    "last_name": "Chen",
    "email": "Wei.Chen@Example.com",
    "username": "wchen",
    "role": "Sales",
}


def test_a_manager_adds_a_user_who_sets_a_password_from_the_link_and_logs_in(client, org, english):
    client.force_login(org.users["manager"])
    response = client.post(reverse("accounts:user_create"), {**NEW_USER, "team": org.teams["east"].pk})
    assert response.status_code == 302
    user = User.objects.get(username="wchen")
    assert (user.email, user.get_full_name(), user.has_usable_password()) == (
        "wei.chen@example.com",
        "Wei Chen",
        False,
    )
    assert user.membership.team == org.teams["east"] and list(user.groups.values_list("name", flat=True)) == [
        "Sales"
    ]
    link = _delivered_password_link(user)
    client.logout()
    form = client.get(link, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Orchid-Lantern-42", "new_password2": "Orchid-Lantern-42"},
    )
    assert done.status_code == 302 and done.url == reverse("password_reset_complete")
    assert (
        client.post(reverse("login"), {"username": "wchen", "password": "Orchid-Lantern-42"}).status_code
        == 302
    )
    assert client.get(reverse("dashboard")).status_code == 200
    # the link works once
    client.logout()
    assert not client.get(link, follow=True).context["validlink"]


def _delivered_password_link(user):
    """Sends the user's password-link e-mail from the outbox as the worker does; returns the link."""
    email = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.PASSWORD_LINK, account=user, status="pending")
    assert email.to == user.email and PASSWORD_TOKEN in email.body, "the stored e-mail holds no token"
    sent_before = len(mail.outbox)
    assert deliver(email.pk) == "sent"
    [message] = mail.outbox[sent_before:]
    found = re.search(r"https?://\S+", str(message.body))
    assert message.to == [user.email] and found is not None and PASSWORD_TOKEN not in found.group(0)
    assert not OutgoingEmail.objects.filter(body__contains=found.group(0).rstrip("/").rsplit("/", 1)[1])
    return found.group(0)


def test_a_manager_sends_a_new_password_link_that_works_once(client, org, english):
    person = UserFactory(email="late@example.com")
    client.force_login(org.users["manager"])
    response = client.post(reverse("accounts:user_password_link", args=[person.pk]), follow=True)
    assert "A new link to set a password was sent to late@example.com." in response.content.decode()
    link = _delivered_password_link(person)
    client.logout()
    form = client.get(link, follow=True)
    assert form.context["validlink"]
    client.post(
        form.redirect_chain[-1][0], {"new_password1": "Amber-Kettle-77", "new_password2": "Amber-Kettle-77"}
    )
    person.refresh_from_db()
    assert person.check_password("Amber-Kettle-77")
    assert not client.get(link, follow=True).context["validlink"]


def test_no_password_link_for_a_salesperson_to_send_or_for_an_inactive_user(client, org, english):
    person = UserFactory(email="gone@example.com", is_active=False)
    client.force_login(org.users["a1"])
    assert client.post(reverse("accounts:user_password_link", args=[person.pk])).status_code == 403
    client.force_login(org.users["manager"])
    refused = client.post(reverse("accounts:user_password_link", args=[person.pk]), follow=True)
    assert "An inactive user gets no password link; reactivate them first." in refused.content.decode()
    assert not OutgoingEmail.objects.exists()


def test_bad_input_is_shown_at_the_field_and_nothing_is_written(client, org, english):
    client.force_login(org.users["manager"])
    before = User.objects.count()
    taken = client.post(reverse("accounts:user_create"), {**NEW_USER, "email": org.users["a1"].email})
    assert (
        taken.status_code == 200
        and "Another user has this e-mail address." in taken.context["form"].errors["email"]
    )
    bad = client.post(reverse("accounts:user_create"), {**NEW_USER, "username": "a b\x00", "role": "Boss"})
    assert bad.status_code == 200 and {"username", "role"} <= set(bad.context["form"].errors)
    assert User.objects.count() == before and not OutgoingEmail.objects.exists()


def test_a_manager_edits_a_user_and_makes_them_a_team_lead(client, org):
    client.force_login(org.users["manager"])
    a1 = org.users["a1"]
    data = {
        **NEW_USER,
        "username": "a1",
        "email": a1.email,
        "role": "Team leads",
        "team": org.teams["north"].pk,
    }
    assert client.post(reverse("accounts:user_edit", args=[a1.pk]), data).status_code == 302
    a1.refresh_from_db()
    assert a1.get_full_name() == "Wei Chen" and a1.membership.team == org.teams["north"]
    assert list(org.teams["north"].leads().order_by("username")) == [a1, org.users["lead_n"]]


def test_a_manager_adds_and_renames_a_team(client, org):
    client.force_login(org.users["manager"])
    assert (
        client.post(reverse("accounts:team_create"), {"name": " South  ", "region": "Guangzhou"}).status_code
        == 302
    )
    south = Team.objects.get(name="South")
    assert south.region == "Guangzhou"
    assert client.post(reverse("accounts:team_create"), {"name": "East"}).status_code == 200  # taken
    client.post(reverse("accounts:team_edit", args=[south.pk]), {"name": "South China", "region": "Shenzhen"})
    south.refresh_from_db()
    assert (south.name, south.region) == ("South China", "Shenzhen") and Team.objects.count() == 3
    listed = client.get(reverse("accounts:teams")).content.decode()
    assert "South China" in listed and "Li Lead" in listed


@pytest.mark.parametrize("who", ["lead_e", "a1"])
def test_only_managers_manage_users_and_teams(client, org, who):
    client.force_login(org.users[who])
    target = org.users["a2"]
    for url in (
        reverse("accounts:users"),
        reverse("accounts:user_create"),
        reverse("accounts:user_edit", args=[target.pk]),
        reverse("accounts:user_deactivate", args=[target.pk]),
        reverse("accounts:teams"),
        reverse("accounts:team_create"),
        reverse("accounts:team_edit", args=[org.teams["east"].pk]),
    ):
        assert client.get(url).status_code == 403, url
        assert (
            client.post(url, {**NEW_USER, "name": "X", "successor": org.users["a1"].pk}).status_code == 403
        ), url
    target.refresh_from_db()
    assert (
        target.is_active and not User.objects.filter(username="wchen").exists() and Team.objects.count() == 2
    )


def test_the_user_list_costs_the_same_with_5_and_50_users(client, org, count_queries):
    client.force_login(org.users["manager"])
    few = count_queries(client, reverse("accounts:users"))
    for index in range(45):
        user = UserFactory(username=f"extra{index}")
        Membership.objects.create(user=user, team=org.teams["east"])
    many = count_queries(client, reverse("accounts:users"))
    assert many == few <= 8
    assert count_queries(client, reverse("accounts:teams")) <= 6


def test_deactivating_hands_everything_to_the_successor(client, org, english):
    client.force_login(org.users["manager"])
    b1, a1 = org.users["b1"], org.users["a1"]
    url = reverse("accounts:user_deactivate", args=[b1.pk])
    page = client.get(url)
    assert page.context["counts"] == {"customers": 1, "opportunities": 1, "orders": 1, "followups": 1}
    assert "1 open opportunity" in page.content.decode()
    assert client.post(url, {"successor": b1.pk}).status_code == 200  # not themselves
    assert client.post(url, {"successor": a1.pk}).status_code == 302
    b1.refresh_from_db()
    assert not b1.is_active
    assert Customer.objects.get(name="Beta Co").owner == a1
    assert Opportunity.objects.get(title="Beta secret deal").owner == a1
    assert org.records["o_b1"].__class__.objects.get(pk=org.records["o_b1"].pk).owner == a1
    assert FollowUp.objects.get(subject="Beta private call").assignee == a1
    assert not Customer.objects.filter(owner__is_active=False).exists()
    assert not Opportunity.objects.open().filter(owner__is_active=False).exists()
    assert not Order.objects.filter(owner__is_active=False, status__in=Order.OPEN_STATUSES).exists()
    assert not FollowUp.objects.open().filter(assignee__is_active=False).exists()
    customer = Customer.objects.get(name="Beta Co")
    assert "handed_over" in customer.history.first().history_change_reason
    event = UserEvent.objects.get(user=b1)
    assert event.parameters == {
        "successor": a1.pk,
        "customers": 1,
        "opportunities": 1,
        "orders": 1,
        "followups": 1,
    }
    # An inactive user cannot log in and is offered nowhere.
    client.logout()
    assert client.post(reverse("login"), {"username": "b1", "password": "demo-Passw0rd"}).status_code == 200
    assert b1 not in active_users()


def test_a_deactivated_users_session_ends(client, org):
    client.force_login(org.users["b1"])
    from accounts.services import deactivate_user

    deactivate_user(actor=None, user=org.users["b1"], successor=org.users["a1"])
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_manager_reactivates_a_user(client, org):
    from accounts.services import deactivate_user

    b1 = org.users["b1"]
    deactivate_user(actor=None, user=b1, successor=org.users["a1"])
    client.force_login(org.users["lead_e"])
    assert client.post(reverse("accounts:user_reactivate", args=[b1.pk])).status_code == 403
    b1.refresh_from_db()
    assert not b1.is_active
    client.force_login(org.users["manager"])
    assert client.get(reverse("accounts:user_reactivate", args=[b1.pk])).status_code == 405
    assert client.post(reverse("accounts:user_reactivate", args=[b1.pk])).status_code == 302
    b1.refresh_from_db()
    assert b1.is_active and Customer.objects.get(name="Beta Co").owner == org.users["a1"]
    assert list(UserEvent.objects.filter(user=b1).values_list("type", flat=True)) == [
        "reactivated",
        "deactivated",
    ]
