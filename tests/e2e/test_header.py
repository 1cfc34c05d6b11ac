"""The header holds every section, the search, the bell, the languages and the user menu without the
page scrolling sideways, at every width from a small laptop to a wide screen, in both languages."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = [1024, 1200, 1280, 1366, 1440, 1920]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_header_fits_the_screen(page, live_server, login, screenshot, language):
    # A manager's header is the fullest: Automation and Approvals besides everyone's sections.
    UserFactory(
        username="manager",
        first_name="Alexandra",
        last_name="Montgomery",
        is_staff=True,
        groups=[Group.objects.get(name="Managers")],
    )
    login("manager", PASSWORD)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{live_server.url}/followups/today/")
        expect(page.get_by_test_id("nav-approvals")).to_have_count(1)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, width
        expanded = page.get_by_test_id("user-menu").is_visible()
        last = page.get_by_test_id("user-menu") if expanded else page.locator(".navbar-toggler")
        box = last.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, (width, box)
        assert expanded == (width >= 1200), width  # the menu collapses below 1200 px
        screenshot(f"header-{language}-{width}")
