"""The label stored data knows a model by.

Some stored values name the model they belong to: every encrypted value is bound to
`<label>.<field>` (`lib.fields`), the audit trail keeps `object_type`, key rotation keys its
progress by label. Those strings must never change, or ciphertexts stop decrypting and audit
queries stop finding their rows. A model moved to another app keeps the label it was stored
under by saying so: `stored_app_label = "support"` on the class (ADR 0019: the models of
`accommodation` and `care` began in `support`). Everything that stores a model's label asks
`stored_label`, never `_meta.label_lower`.

A migration's historical models do not carry the attribute: a data migration that encrypts or
decrypts a moved model's values must give the old context itself.
"""

from __future__ import annotations

from typing import Any


def stored_label(model: Any) -> str:
    """`<app>.<model>` in lower case, as stored: the app it was first stored under, if moved."""
    app = getattr(model, "stored_app_label", None) or model._meta.app_label
    return f"{app}.{model._meta.model_name}"
