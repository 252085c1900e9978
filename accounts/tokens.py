"""One-click sign-in links: single use (the token hashes last_login) and expiring."""
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


class SignInTokenGenerator(PasswordResetTokenGenerator):
    """Expiry is settings.PASSWORD_RESET_TIMEOUT, set from SIGNIN_LINK_TIMEOUT."""

    key_salt = "codev.accounts.signin"


signin_tokens = SignInTokenGenerator()


def signin_path(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("signin", args=[uid, signin_tokens.make_token(user)])
