"""A mixed workload of sales staff and managers: lists, searches, detail pages, logging
communications, moving opportunities, order transitions and payments.

Run through load/run.py, which prepares a database and a gunicorn server; every request is named
by its kind ("list customers", "log communication", …) so the report gives p50/p95 per kind.
A refused write (a conflict, an amount past the balance) is an answer, not a failure: only server
errors (5xx) and unexpected statuses fail.
"""

import logging
import random
import re
from collections import Counter

from locust import HttpUser, between, events, task

USERS = ["manager", "sales1", "sales2"]
PASSWORD = "demo"
SEARCHES = ["华东", "138", "SO-20", "Ltd", "科技", "@", "上海", "sensor"]
IDS = re.compile(r'href="/(customers|orders|opportunities)/(\d+)/"')
STAGE_OPTION = re.compile(r'<option value="(\d+)"')
FROM_STAGE = re.compile(r'name="from_stage" value="(\d+)"')


class SalesPerson(HttpUser):
    wait_time = between(0.5, 2)

    def on_start(self):
        self.rng = random.Random()
        self.username = self.rng.choice(USERS)
        login = self.client.get("/accounts/login/", name="login")
        self.client.post(
            "/accounts/login/",
            {
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": login.cookies.get("csrftoken"),
            },
            name="login",
        )
        self.ids: dict[str, list[str]] = {"customers": [], "orders": [], "opportunities": []}
        self._collect("/customers/?sort=-updated", "list customers")
        self._collect("/opportunities/?status=open", "list opportunities")
        self._collect("/orders/?status=confirmed&has_balance=true", "list orders")

    def _collect(self, url, name):
        response = self.client.get(url, name=name)
        for kind, pk in IDS.findall(response.text):
            self.ids[kind].append(pk)
        return response

    def _post(self, url, data, name, **headers):
        token = self.client.cookies.get("csrftoken", "")
        with self.client.post(
            url, data, name=name, headers={"X-CSRFToken": token, **headers}, catch_response=True
        ) as response:
            if response.status_code < 500 and response.status_code in (200, 204, 302):
                response.success()

    def _some(self, kind):
        return self.rng.choice(self.ids[kind]) if self.ids[kind] else None

    # Reading

    @task(10)
    def lists(self):
        url, name = self.rng.choice(
            [
                ("/customers/", "list customers"),
                ("/orders/", "list orders"),
                ("/opportunities/", "list opportunities"),
                ("/followups/", "list follow-ups"),
                ("/followups/communications/", "list communications"),
                ("/followups/today/", "my day"),
                ("/opportunities/board/", "board"),
                ("/", "dashboard"),
            ]
        )
        self._collect(url, name)

    @task(2)
    def last_page(self):
        self.client.get("/followups/communications/?page=last", name="list communications, last page")

    @task(5)
    def search(self):
        text = self.rng.choice(SEARCHES)
        self.client.get("/search/", params={"q": text}, name="search")
        self.client.get("/customers/", params={"q": text}, name="list customers, searched")

    @task(8)
    def detail(self):
        kind = self.rng.choice(["customers", "orders", "opportunities"])
        pk = self._some(kind)
        if pk:
            self.client.get(f"/{kind}/{pk}/", name=f"detail {kind}")

    # Writing

    @task(4)
    def log_communication(self):
        pk = self._some("customers")
        if pk:
            self._post(
                f"/followups/customers/{pk}/log/",
                {
                    "channel": "phone",
                    "direction": "out",
                    "occurred_at": "2026-11-20T10:00",
                    "subject": "Load test call",
                    "content": "Called about the next order.",
                },
                "log communication",
                **{"HX-Request": "true"},
            )

    @task(3)
    def move_opportunity(self):
        pk = self._some("opportunities")
        if not pk:
            return
        page = self.client.get(f"/opportunities/{pk}/", name="detail opportunities")
        seen = FROM_STAGE.search(page.text)
        stages = STAGE_OPTION.findall(page.text)
        if seen and stages:
            self._post(
                f"/opportunities/{pk}/move/",
                {"stage": self.rng.choice(stages), "from_stage": seen.group(1), "note": "load"},
                "move opportunity",
            )

    @task(2)
    def order_transition(self):
        response = self.client.get("/orders/?status=created", name="list orders")
        created = [pk for kind, pk in IDS.findall(response.text) if kind == "orders"]
        if created:
            self._post(
                f"/orders/{self.rng.choice(created)}/transition/confirm/",
                {"seen_status": "created", "note": "load"},
                "order transition",
            )

    @task(2)
    def payment(self):
        pk = self._some("orders")
        if pk:
            self._post(
                f"/orders/{pk}/payments/",
                {"kind": "payment", "amount": "1.00", "method": "bank_transfer"},
                "payment",
            )


# Server errors by kind of request; any fails the run (load/run.py exits non-zero).
SERVER_ERRORS: Counter[str] = Counter()


@events.request.add_listener
def count_server_errors(name, response, exception, **kwargs):
    status = getattr(response, "status_code", 0)
    if status >= 500 or (exception and not status):
        SERVER_ERRORS[name] += 1


@events.quitting.add_listener
def fail_on_server_errors(environment, **kwargs):
    if SERVER_ERRORS:
        logging.error("Server errors by kind: %s", dict(SERVER_ERRORS))
        environment.process_exit_code = 1
