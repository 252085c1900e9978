from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.shortcuts import redirect
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.tokens import signin_tokens


@require_GET
def signin(request, uidb64: str, token: str):
    """A valid link signs its member in once; a used or expired one sends him to the login form."""
    try:
        user = get_user_model().objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, OverflowError, get_user_model().DoesNotExist):
        user = None
    if user is None or not user.is_active or not signin_tokens.check_token(user, token):
        messages.error(request, _("This sign-in link is invalid, expired or already used. Sign in with your password."))
        return redirect("login")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("home")
