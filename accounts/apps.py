from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from codev import security  # noqa: F401  (registers the web hardening deploy checks)
