from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "opennrm.linkage"
    label = "linkage"
    verbose_name = "Record linkage: referrals that may be the same person, and those confirmed"

    def ready(self) -> None:
        # Referrals confirmed to be one person protect one another from removal (ADR 0040).
        from opennrm.protection.selectors import register_source

        from .protection import linked_source

        register_source(linked_source)
        # The blocking keys and pair fingerprints are under the blind-index key: `rotate_keys`
        # recomputes them with the blind indexes, so that the old key can go (ADR 0048); cases
        # imports nothing of linkage.
        from opennrm.cases import key_rotation
        from opennrm.lib.labels import stored_label

        from .models import CandidatePair, LinkageKey
        from .services import _fingerprints_rekeyed, _keys_rekeyed

        for model, rekey in ((LinkageKey, _keys_rekeyed), (CandidatePair, _fingerprints_rekeyed)):
            digests = key_rotation.KeyedDigests(stored_label(model), rekey)
            if digests not in key_rotation.KEYED_DIGESTS:
                key_rotation.KEYED_DIGESTS.append(digests)
