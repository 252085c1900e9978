import uuid

from django import template

from workshops import labels

register = template.Library()


@register.simple_tag
def new_cid() -> str:
    """A fresh identifier for a form: a resent or double-clicked form is stored once."""
    return str(uuid.uuid4())


@register.filter
def label(value, vocabulary: str):
    return getattr(labels, vocabulary.upper()).get(value, value)
