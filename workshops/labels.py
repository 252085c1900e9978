"""Translated names of the method's vocabulary, for templates."""
from django.utils.translation import gettext_lazy as _

KINDS = {
    "question": _("question"),
    "idea": _("idea"),
    "experience": _("experience"),
    "resource": _("resource"),
    "perspective": _("perspective"),
}
HELP = {
    "ideas": _("ideas"),
    "experiences": _("experiences"),
    "resources": _("resources"),
    "reframing": _("reframing"),
}
MARKS = {"keep": _("kept"), "explore": _("to explore")}
ROLES = {"facilitator": _("facilitator"), "client": _("client"), "consultant": _("consultant")}
STATUSES = {"planned": _("ready to start"), "live": _("live"), "ended": _("ended")}
RULES = [
    (_("Confidentiality"), _("What is said in the group stays in the group; nothing goes back to anyone's hierarchy.")),
    (_("Goodwill"), _("We help without judging; the client alone decides what to keep.")),
    (_("Structure"), _("We follow the six steps and their time, guided by the facilitator.")),
]
