"""Single-use tokens that travel in a page's path never reach a log line.

An invitation's link (`/join/<token>/`) and a sign-in reset's (`/sign-in/reset/<token>/`) are
credentials: whoever holds one can create the invited account, or choose the person's password.
Django writes the path of a refused request (a mail scanner's HEAD, a form refused for its CSRF
token) and the development server writes every path: this filter, on those loggers, puts a mark
where the token was, so that reading the logs gives no way in.
"""

from __future__ import annotations

import logging
import re

# The routes `accounts:invitation_accept` and `accounts:sign_in_reset`.
SECRET_IN_PATH = re.compile(r"(/(?:join|sign-in/reset)/)[^/\s'\"?#]+")
MARK = "[token]"


def redact(text: str) -> str:
    return SECRET_IN_PATH.sub(rf"\g<1>{MARK}", text)


class SecretPathFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        request = getattr(record, "request", None)
        # Django passes the request itself; only one for a secret path becomes text.
        if request is not None and SECRET_IN_PATH.search(str(getattr(request, "path", request))):
            record.request = redact(str(request))
        return True
