"""Read a page's form as a browser would send it: every input, select and textarea with its
current value, hidden fields included (so that a version or one-time key the page carries, once
there is one, is sent back like the browser sends it)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _Form(HTMLParser):
    def __init__(self, action: str | None) -> None:
        super().__init__()
        self.action = action
        self.inside = action is None
        self.found = False
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            if self.action is None or a.get("action", "") == self.action:
                self.inside = True
                self.found = True
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            self._input(name, a)
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            self._option(self._select, a)
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def _input(self, name: str, a: dict[str, str]) -> None:
        kind = a.get("type", "text").lower()
        if kind in ("submit", "button", "file", "image", "reset"):
            return
        if kind in ("checkbox", "radio") and "checked" not in a:
            return
        default = "on" if kind in ("checkbox", "radio") else ""
        self.values.setdefault(name, []).append(a.get("value", default))

    def _option(self, select: str, a: dict[str, str]) -> None:
        value = a.get("value", "")
        if self._select_first is None:
            self._select_first = value
        if "selected" in a:
            self.values.setdefault(select, []).append(value)
            self._select_chosen = True

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside and self.action is not None:
            self.inside = False
        elif tag == "select" and self._select:
            if not self._select_chosen and self._select_first is not None:
                self.values.setdefault(self._select, []).append(self._select_first)
            self._select = None
        elif tag == "textarea" and self._textarea:
            text = "".join(self._text)
            self.values.setdefault(self._textarea, []).append(
                text[1:] if text.startswith("\n") else text
            )
            self._textarea = None


def form_data(html: str, action: str | None = None) -> dict[str, Any]:
    """The fields of the form posting to `action` (or of every form on the page), as a dict
    for the test client: one value, or a list where a name has several."""
    parser = _Form(action)
    parser.feed(html)
    assert action is None or parser.found, f"no form posting to {action} on the page"
    return {k: v[0] if len(v) == 1 else v for k, v in parser.values.items()}
