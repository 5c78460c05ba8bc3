"""Settings for the test suite: the real settings module, with the environment a test run needs.

Not a second configuration: it only sets variables the way an operator would, then imports
`opennrm.settings`, and swaps in what makes tests fast and contained (MD5 hashing, in-memory
e-mail, tasks run at once).
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-not-for-any-real-deployment-0123")
os.environ.setdefault("OPENNRM_HTTPS", "false")
os.environ.setdefault("OPENNRM_DEMO", "false")
# Required outside demo mode; the address links in e-mails began with before it was.
os.environ.setdefault("OPENNRM_SITE_URL", "http://127.0.0.1:8000")
# Test-only keys (32 bytes each, base64), published here and so worthless: never use them
# anywhere else. Tests that rotate keys override ENCRYPTION_KEYS with keys of their own.
os.environ.setdefault(
    "OPENNRM_ENCRYPTION_KEYS", "test-a:dGVzdHMtb25seSBlbmNyeXB0aW9uIGtleSBudW1iIDA="
)
os.environ.setdefault(
    "OPENNRM_BLIND_INDEX_KEY", "test-bi:dGVzdHMtb25seSBibGluZC1pbmRleCBrZXkgbnVtYjA="
)

from opennrm.settings import *  # noqa: F403
from opennrm.settings import LOGGING

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]
# Serve static files straight from the source folders; no collectstatic in tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
