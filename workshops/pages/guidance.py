"""Page: the facilitator's self-assessment of a workshop he ran, saved to his own journal.

Thin: guidance.access_self_assessment says who may see it (the workshop's facilitator; members
403, outsiders 403/404), guidance.save_self_assessment checks and saves."""
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from workshops import guidance
from workshops.errors import Invalid, Refused
from workshops.pages.access import fetch_or_deny


@login_required
@require_http_methods(["GET", "POST"])
def self_assessment(request, workshop_id: int):
    workshop = fetch_or_deny(guidance.access_self_assessment, request.user, workshop_id)
    answers, comment, error, status = {}, "", "", 200
    if request.method == "POST":
        answers = {key: request.POST.get(key, "") for key in guidance.ITEM_KEYS}
        comment = request.POST.get("comment", "")
        save = partial(guidance.save_self_assessment, workshop.pk, acting_user=request.user, answers=answers, comment=comment)
        try:
            entry = fetch_or_deny(save)
        except (Invalid, Refused) as refused:
            # Shown again as he filled it in: a refused self-assessment loses nothing.
            error, status = refused.message, 400
        else:
            messages.success(request, _("Your self-assessment is in your journal. Only you can read it."))
            return redirect(reverse("journal") + f"#entry-{entry.pk}")
    missing = set(guidance.unanswered(answers)) if error else set()
    ctx = {
        "workshop": workshop,
        "open": guidance.is_open(workshop),
        "items": [
            {"key": key, "label": label, "answer": answers.get(key, ""), "missing": key in missing}
            for key, label in guidance.CHECKLIST
        ],
        "answers": guidance.ANSWERS,
        "comment": comment,
        "comment_limit": guidance.COMMENT_LIMIT,
        "error": error,
    }
    return render(request, "workshops/guidance/self_assessment.html", ctx, status=status)


urlpatterns = [
    path("workshops/<int:workshop_id>/self-assessment/", self_assessment, name="workshop_self_assessment"),
]
