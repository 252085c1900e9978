"""One item of a room's list (a question, a contribution, a learning, an acceptance) as HTML.

The lists are most of a room's rendering: a consultation of 300 contributions is 300 small
templates for every page and every socket's snapshot, and each event is rendered again for each of
the 8 screens. An item looks the same to every member who cannot act on it, so that rendering is
remembered: it is made from the item, the language and whether the reader is the facilitator (a
question's advice flag), and from nothing else, so it cannot carry anything of one member to
another. A member who can act on the item (the client marking a contribution, answering a
question) gets a full rendering with his form and its CSRF token.
"""
import json
from functools import lru_cache

from django.template.loader import render_to_string
from django.utils import translation

# The template of each list's item, and the act that puts a form in it (None: never a form).
ACTING = {
    "workshops/_question.html": "answer_question",
    "workshops/_contribution.html": "mark_contribution",
    "workshops/_learning.html": None,
    "workshops/_acceptance.html": None,
}


def item_html(template: str, item: dict, context: dict) -> str:
    """`template` rendered for `item` as the reader described by `context` (viewer, can, …) sees it."""
    act = ACTING[template]
    can = context.get("can") or {}
    if act and can.get(act):
        return render_to_string(template, {**context, "item": item}).strip()
    viewer = context.get("viewer") or {}
    key = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
    return _remembered(template, translation.get_language(), bool(viewer.get("is_facilitator")), key)


@lru_cache(maxsize=16384)
def _remembered(template: str, language: str, is_facilitator: bool, item: str) -> str:
    with translation.override(language):
        return render_to_string(template, {"item": json.loads(item), "viewer": {"is_facilitator": is_facilitator}, "can": {}}).strip()
