"""The production settings plus what the benchmark measures with (tests/bench/run.py serves with these):
each response carries how many queries it ran and how long they took, and /bench/bare/ is a page that
does nothing but pass the middleware, the framework's ceiling for a signed-in page."""

from crm.settings import *  # noqa: F403
from crm.settings import MIDDLEWARE

BENCH = True
MIDDLEWARE = ["tests.bench.middleware.count_queries", *MIDDLEWARE]
ROOT_URLCONF = "tests.bench.urls"
