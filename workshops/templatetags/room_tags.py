import uuid
from datetime import date

from django import template

from workshops import labels

register = template.Library()


@register.simple_tag
def new_cid() -> str:
    """A fresh identifier for a form: a resent or double-clicked form is stored once."""
    return str(uuid.uuid4())


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
