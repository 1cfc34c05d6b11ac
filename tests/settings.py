"""Test settings: the real settings, read as for development, with a fast password hasher."""

import os

os.environ.setdefault("DEBUG", "1")

from crm.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
