"""PostgreSQL restarted under load: requests fail cleanly (the 503 page, no trace) while it is down,
and succeed again once it is back, without restarting the app.

Everything is real and private to the test: a PostgreSQL cluster made with initdb in a temporary
folder and served on a port of its own (the shared server is never touched), the CRM migrated
into it and served by gunicorn with the production settings (DEBUG off), and client threads
signed in as a user, requesting pages while the cluster is restarted, then stopped and started.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from django.conf import settings

POSTGRES_BIN = Path(os.environ.get("PG_BIN_DIR", "/usr/lib/postgresql/15/bin"))
PORTS = range(8131, 8140)  # the ports this test may use
PAGES = ["/", "/customers/", "/orders/", "/followups/", "/healthz", "/readyz"]
PROBES = {"/healthz", "/readyz"}  # asked without the session cookie, as a load balancer does
CLIENTS = 4
WORKERS = 2
UNAVAILABLE_HEADING = "The CRM is briefly unavailable"

pytestmark = [
    pytest.mark.fault,
    pytest.mark.skipif(
        not (POSTGRES_BIN / "initdb").exists(),
        reason=f"needs PostgreSQL's server programs in {POSTGRES_BIN} (apt-get install postgresql)",
    ),
]


def free_port(taken=()):
    for port in PORTS:
        if port in taken:
            continue
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port in {PORTS}")


class Cluster:
    """A PostgreSQL cluster of the test's own. As root, its programs run as the postgres user."""

    def __init__(self, root: Path, port: int):
        self.root, self.port, self.data = root, port, root / "data"
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_owner:
            shutil.chown(root, "postgres")
        self.url = f"postgres://postgres@127.0.0.1:{port}/crm"

    def run(self, program, *arguments):
        command = [*self.as_owner, str(POSTGRES_BIN / program), *arguments]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, f"{program} failed: {result.stdout}{result.stderr}"

    def pg_ctl(self, action, *arguments):
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(
            "pg_ctl",
            action,
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-w",
            "-o",
            options,
            *arguments,
        )

    def create(self):
        self.run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "-N"
        )
        self.pg_ctl("start")
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "crm")


@dataclass
class Answer:
    started: float
    url: str
    status: int  # 0: no HTTP answer at all
    body: str
    headers: dict


class Load:
    """Client threads requesting PAGES in turn, as one signed-in user, until stopped."""

    def __init__(self, base_url, cookies):
        self.base_url, self.cookies = base_url, cookies
        self.answers: list[Answer] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(index,)) for index in range(CLIENTS)]

    def run(self, index):
        signed_in = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        probe = urllib.request.build_opener()
        for opener in (signed_in, probe):
            opener.addheaders = [("Accept-Language", "en")]
        turn = index
        while not self.stopping.is_set():
            url = PAGES[turn % len(PAGES)]
            turn += 1
            started = time.monotonic()
            opener = probe if url in PROBES else signed_in
            try:
                with opener.open(self.base_url + url, timeout=15) as response:
                    answer = Answer(
                        started, url, response.status, response.read().decode(), dict(response.headers)
                    )
            except urllib.error.HTTPError as error:
                answer = Answer(started, url, error.code, error.read().decode(), dict(error.headers))
            except OSError as error:
                answer = Answer(started, url, 0, repr(error), {})
            self.answers.append(answer)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def since(self, moment):
        return [answer for answer in list(self.answers) if answer.started >= moment]

    def wait_until_served(self, timeout=15.0):
        """The moment from which every answer is a 200 again (at least a few in a row)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.25)
            answers = list(self.answers)
            last_failure = max((a.started for a in answers if a.status != 200), default=0.0)
            if len([a for a in answers if a.started > last_failure]) >= 2 * CLIENTS:
                return last_failure
        raise AssertionError("the CRM did not serve pages again after PostgreSQL came back")


def _app_environment(cluster, static_root):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "DEBUG": "0",
        "SECRET_KEY": "fault-test-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": cluster.url,
        "STATIC_ROOT": str(static_root),
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
    }


# Migrates and creates the user the clients sign in as, in one process.
PREPARE_DATABASE = """
from django.contrib.auth import get_user_model
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
get_user_model().objects.create_superuser("drill", "drill@example.com", "restart-drill")
"""


def _manage(environment, *arguments):
    return subprocess.Popen(
        [sys.executable, "manage.py", *arguments], cwd=settings.BASE_DIR, env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _log_in(base_url):
    cookies = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    with opener.open(f"{base_url}/accounts/login/") as response:
        page = response.read().decode()
        assert "Content-Security-Policy" in response.headers  # with DEBUG off, under gunicorn
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None, "no CSRF token on the log-in page"
    form = {"username": "drill", "password": "restart-drill", "csrfmiddlewaretoken": token.group(1)}
    with opener.open(f"{base_url}/accounts/login/", urllib.parse.urlencode(form).encode()) as response:
        assert response.url == f"{base_url}/", "the log-in did not succeed"
    return cookies


@pytest.fixture
def served_crm(tmp_path):
    """The CRM under gunicorn on a private PostgreSQL cluster: (base URL, cluster, gunicorn's log)."""
    # Not under tmp_path: as root, the postgres user could not reach into pytest's private folder.
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="crm-postgres-")), free_port())
    cluster.create()
    environment = _app_environment(cluster, tmp_path / "static")
    gunicorn = None
    try:
        # Migrating and collecting the static files (DEBUG off needs them) at the same time.
        preparing = [
            _manage(environment, "shell", "--command", PREPARE_DATABASE),
            _manage(environment, "collectstatic", "--no-input", "--verbosity", "0"),
        ]
        outputs = [process.communicate(timeout=240)[0] for process in preparing]
        assert all(process.returncode == 0 for process in preparing), outputs

        port = free_port(taken={cluster.port})
        log = tmp_path / "gunicorn.log"
        gunicorn = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "crm.wsgi:application",
             "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--no-control-socket"],
            cwd=settings.BASE_DIR, env=environment, stdout=log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        base_url = f"http://127.0.0.1:{port}"
        _wait_for(lambda: _answers(f"{base_url}/healthz"), 30, "gunicorn")
        yield base_url, cluster, log
    finally:
        if gunicorn is not None:
            gunicorn.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            gunicorn.wait(timeout=30)
        cluster.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(cluster.root)


def test_postgres_restarts_under_load_answer_503_then_pages_again(served_crm):
    base_url, cluster, log = served_crm
    cookies = _log_in(base_url)

    with Load(base_url, cookies) as load:
        time.sleep(1.5)
        assert {answer.status for answer in load.answers} == {200}, (
            "not every page answered before the restart"
        )

        cluster.pg_ctl("restart", "-m", "fast")  # a quick restart in the middle of the load
        load.wait_until_served()

        cluster.pg_ctl("stop", "-m", "fast")  # a longer one: down for two seconds
        stopped = time.monotonic()
        time.sleep(2)
        during = load.since(stopped)
        cluster.pg_ctl("start")
        started = time.monotonic()
        recovered = load.wait_until_served()
        time.sleep(1.5)
        after = load.since(recovered + 0.001)

    answers = load.answers
    statuses = Counter(answer.status for answer in answers)
    print(  # shown by pytest -rP: what the drill saw
        f"{len(answers)} requests: {dict(statuses)}; down {started - stopped:.1f} s; "
        f"pages again {max(recovered - started, 0):.1f} s after the start"
    )
    assert set(statuses) <= {200, 503}, statuses
    unavailable = [answer for answer in answers if answer.status == 503]
    assert during and all(answer.status == 503 for answer in during), "a page answered without its database"
    for answer in unavailable:
        assert "Traceback" not in answer.body and "OperationalError" not in answer.body
        if answer.url == "/readyz":
            assert json.loads(answer.body)["status"] == "unavailable"
        else:
            assert UNAVAILABLE_HEADING in answer.body, answer.body[:500]
            assert answer.headers["Retry-After"] == "30"
    assert recovered - started < 5, f"pages answered again only {recovered - started:.1f} s after the start"
    assert len(after) >= 2 * CLIENTS and all(answer.status == 200 for answer in after)

    output = log.read_text()
    assert output.count("Booting worker") == WORKERS, "a gunicorn worker was restarted"
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    outage_lines = [line for line in logged if line["message"].startswith("Service Unavailable")]
    assert outage_lines and all(line["request_id"] for line in outage_lines)
