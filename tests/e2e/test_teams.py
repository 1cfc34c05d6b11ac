"""A team lead's day: lead1 (password demo) logs in and sees the team's pipeline on the board, and not the
other team's deals."""

import re

import pytest
from playwright.sync_api import expect

from accounts.demo import seed_teams
from crm.demo import DEMO_PASSWORD, demo_context, seed_users
from opportunities.models import Stage
from tests.factories import CustomerFactory, OpportunityFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_teams(default_stages):
    users = seed_users()
    seed_teams(demo_context(users))
    evaluate = Stage.objects.get(code="evaluate")
    theirs = CustomerFactory(owner=users["sales1"], name="华东精密仪器有限公司")
    ours = CustomerFactory(owner=users["sales2"], name="北方重工")
    OpportunityFactory(customer=ours, stage=evaluate, title="北方重工 50 台控制器")
    OpportunityFactory(customer=theirs, owner=users["sales2"], stage=evaluate, title="华东精密 备件 (Emma)")
    OpportunityFactory(customer=theirs, stage=evaluate, title="华东精密 200 台传感器")
    return users


def test_lead1_sees_the_teams_pipeline_on_the_board(page, live_server, login, demo_teams, screenshot):
    page.set_viewport_size({"width": 1366, "height": 900})
    login("lead1", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/opportunities/board/")
    board = page.get_by_test_id("column-evaluate")
    expect(board.get_by_text("北方重工 50 台控制器")).to_be_visible()
    expect(board.get_by_text("华东精密 备件 (Emma)")).to_be_visible()
    expect(page.get_by_text("华东精密 200 台传感器")).to_have_count(0)
    expect(page.get_by_test_id("user-menu")).to_contain_text("Jun Zhao")
    screenshot("teams-lead1-board")
    page.get_by_test_id("user-menu").click()
    expect(page.get_by_test_id("user-role")).to_have_text(re.compile("Team lead|组长"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/opportunities/board/")
    screenshot("teams-lead1-board-phone")
