"""One item of a room's list (a question, a contribution, a learning, an acceptance) as HTML.

The lists are most of a room's rendering: a consultation of 300 contributions is 300 small
templates for every page and every socket's snapshot, and each event is rendered again for each of
the 8 screens. An item looks the same to every member who cannot act on it, so that rendering is
remembered: it is made from the item, the language and whether the reader is the facilitator (a
question's advice flag), and from nothing else, so it cannot carry anything of one member to
another. A member who can act on the item (the client marking a contribution, answering a
question) gets his form: that rendering is remembered too, from the same inputs plus the act and
the room's form address, with a stand-in where his CSRF token goes, put in for each reader.
"""
import json
import secrets
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


# Stands for the reader's CSRF token in a remembered form; random, so no typed text can be one.
_TOKEN = f"csrf-{secrets.token_hex(16)}"


def item_html(template: str, item: dict, context: dict) -> str:
    """`template` rendered for `item` as the reader described by `context` (viewer, can, …) sees it."""
    act = ACTING[template]
    viewer = context.get("viewer") or {}
    key = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
    language, is_facilitator = translation.get_language(), bool(viewer.get("is_facilitator"))
    if not (act and (context.get("can") or {}).get(act)):
        return _rendered(template, language, is_facilitator, None, None, False, key)
    token = context.get("csrf_token")  # a page's; a socket's rendering has none (room.js adds it)
    html = _rendered(template, language, is_facilitator, act, viewer.get("act_url"), token is not None, key)
    return html.replace(_TOKEN, str(token)) if token is not None else html


@lru_cache(maxsize=16384)
def _rendered(template: str, language: str, is_facilitator: bool, act: str | None, act_url: str | None, token: bool,
              item: str) -> str:
    """The item for a reader who may do `act` on it (None: nothing), his token left as `_TOKEN`."""
    reader = {"viewer": {"is_facilitator": is_facilitator, "act_url": act_url}, "can": {act: True} if act else {}}
    with translation.override(language):
        return render_to_string(template, {"item": json.loads(item), **reader, "csrf_token": _TOKEN if token else None}).strip()
