from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "opennrm.policy"
    label = "policy"
    verbose_name = "Policy profiles"

    def ready(self) -> None:
        # Load the bundled profiles and any a deployment adds, once, and refuse to start if a
        # file is wrong: a decision must never be made under a rule that could not be read.
        from django.conf import settings

        from .profiles import install_profiles, parse_profile_dirs

        install_profiles(parse_profile_dirs(settings.POLICY_PROFILE_DIRS))
