"""The one mapping from the domain's access errors to HTTP: not a member → 403, unknown → 404."""
from django.core.exceptions import PermissionDenied
from django.http import Http404

from workshops.errors import Forbidden, NotFound


def fetch_or_deny(fetch, *args):
    """`fetch(*args)`, with Forbidden as 403 and NotFound as 404."""
    try:
        return fetch(*args)
    except Forbidden as error:
        raise PermissionDenied(error.message) from None
    except NotFound as error:
        raise Http404(error.message) from None
