"""Test settings: the real settings, read as for development, with a fast password hasher."""

import os

os.environ.setdefault("DEBUG", "1")

from crm.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# The replica is the test database itself (Django's test mirror); reads go there only in the tests
# that turn REPLICA_READS on (tests/test_db_router.py), which commit what they read.
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
REPLICA_READS = False

# The webhook tests' receiver listens on 127.0.0.1; tests/automation/test_webhooks.py turns this off to
# check the guard.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
