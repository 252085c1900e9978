from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.tokens import signin_tokens
from codev import throttle


class LoginView(auth_views.LoginView):
    """Django's login form, throttled: after 5 failures in a minute for this username or this
    address, every try is refused for a minute, a right password included (codev/throttle.py)."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if throttle.locked(request, self._account()):
            # An unbound form: a bound one would check the password when the template reads its errors.
            form = self.form_class(request, initial={"username": self._account()})
            return throttle.refusal(request, self.template_name, self.get_context_data(form=form))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        throttle.succeeded(self._account())
        return super().form_valid(form)

    def form_invalid(self, form):
        throttle.failed(self.request, self._account())
        return super().form_invalid(form)

    def _account(self) -> str:
        return self.request.POST.get("username", "")


def _link_user(uidb64: str):
    try:
        return get_user_model().objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, OverflowError, get_user_model().DoesNotExist):
        return None


@require_GET
def signin(request, uidb64: str, token: str):
    """A valid link signs its member in once; a used or expired one sends him to the login form.
    Wrong links count as failed tries of the account they name and of the address (throttle)."""
    user = _link_user(uidb64)
    account = user.get_username() if user is not None else ""
    if throttle.locked(request, account):
        return throttle.refusal(request)
    if user is None or not user.is_active or not signin_tokens.check_token(user, token):
        throttle.failed(request, account)
        messages.error(request, _("This sign-in link is invalid, expired or already used. Sign in with your password."))
        return redirect("login")
    throttle.succeeded(account)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("home")
