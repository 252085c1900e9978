from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class WorkshopsConfig(AppConfig):
    name = "workshops"
    verbose_name = _("Workshops")

    def ready(self):
        from codev import checks as codev_checks

        checks.register(codev_checks.encryption_keys_valid, checks.Tags.security)
        checks.register(codev_checks.generated_key_not_forgotten, checks.Tags.security)
        checks.register(codev_checks.encryption_keys_set, checks.Tags.security, deploy=True)
