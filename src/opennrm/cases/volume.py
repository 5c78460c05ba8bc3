"""The synthetic volume generator's old name, kept only until `support/demo.py` (being moved by
the `support` split) imports `opennrm.cases.synthetic_volume`; then delete this module."""

from __future__ import annotations

from .synthetic_volume import generate

__all__ = ["generate"]
