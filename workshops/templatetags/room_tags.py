import uuid
from datetime import date

from django import template
from django.utils.safestring import mark_safe

from workshops import fragments, labels

register = template.Library()


@register.simple_tag(takes_context=True)
def new_cid(context) -> str:
    """A fresh identifier for a form: a resent or double-clicked form is stored once. A room
    rendered once for several readers gets a stand-in, and each reader his own (room.snapshots)."""
    return context.get("cid_stand_in") or str(uuid.uuid4())


@register.filter
def isodate(value: str):
    """Events carry dates as ISO text; templates show them the local way."""
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return value


@register.filter
def label(value, vocabulary: str):
    return getattr(labels, vocabulary.upper()).get(value, value)


@register.simple_tag(takes_context=True)
def room_items(context, template_name: str, items) -> str:
    """A room's list, each item as `fragments.item_html` renders it for this reader."""
    reader = {"viewer": context.get("viewer"), "can": context.get("can"), "csrf_token": context.get("csrf_token")}
    return mark_safe("\n".join(fragments.item_html(template_name, item, reader) for item in items))  # noqa: S308 (autoescaped templates)
