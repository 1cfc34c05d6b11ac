"""axe-core (vendored in tests/e2e/vendor/, loaded as an init script, which the page's
Content-Security-Policy does not apply to) finds no serious or critical violation on the pages of a
salesperson's day, in both languages, at a laptop's and a phone's width."""

from pathlib import Path

import pytest

from crm.demo import DEMO_PASSWORD, seed_all
from customers.models import Customer
from orders.models import Order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
SERIOUS = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations
    .filter((violation) => ["serious", "critical"].includes(violation.impact))
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.slice(0, 5).map((node) => node.target.join(" ") + " :: " + node.failureSummary),
    }));
}"""


@pytest.fixture
def demo(default_stages):
    seed_all(0.05)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    "viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}], ids=["1366", "390"]
)
def test_no_serious_accessibility_violations(page, live_server, login, screenshot, demo, language, viewport):
    page.add_init_script(path=str(AXE))
    login("sales1", DEMO_PASSWORD)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.set_viewport_size(viewport)
    customer = Customer.objects.filter(owner__username="sales1").order_by("-last_activity_at").first()
    order = Order.objects.filter(customer__owner__username="sales1").order_by("-id").first()
    assert customer is not None and order is not None
    pages = {
        "dashboard": "/",
        "customer-list": "/customers/",
        "customer": customer.get_absolute_url(),
        "board": "/opportunities/board/",
        "my-day": "/followups/today/",
        "order": order.get_absolute_url(),
    }
    found = {}
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == language
        violations = page.evaluate(SERIOUS)
        if violations:
            found[name] = violations
        screenshot(f"a11y-{name}-{language}-{viewport['width']}")
    assert not found, "\n".join(
        f"{name}: {v['id']} ({v['impact']}) {v['help']}\n    " + "\n    ".join(v["nodes"])
        for name, violations in found.items()
        for v in violations
    )
