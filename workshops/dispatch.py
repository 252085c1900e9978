"""One table from a message ({"type": ..., fields}) to a domain action, shared by the websocket
consumer and the plain HTML forms, so both paths obey the same checks."""
from collections.abc import Callable

from django.utils.translation import gettext as _

from workshops import actions, followup, pool, speaking
from workshops.errors import Invalid

TEXT, INT, LIST, FLAG = "text", "int", "list", "flag"
MAX_INT = 2**31  # what every database's integer columns hold

# type -> (action, {field: kind}); unknown fields are ignored, missing ones are None.
COMMANDS: dict[str, tuple[Callable, dict[str, str]]] = {
    "designate_case": (actions.designate_case, {"case_id": INT}),
    "start": (actions.start, {}),
    "vote": (pool.vote, {"votes": LIST}),
    "report_followup": (followup.report, {"action_id": INT, "followup": TEXT, "comment": TEXT}),
    "close_plan": (followup.close, {"plan_id": INT}),
    "advance": (actions.advance, {"from_step": INT, "override_reason": TEXT}),
    "go_back": (actions.go_back, {"from_step": INT, "reason": TEXT}),
    "timer": (actions.control_timer, {"op": TEXT, "minutes": INT}),
    "end": (actions.end, {"reason": TEXT}),
    "write_note": (actions.write_note, {"cid": TEXT, "body": TEXT}),
    "ask_question": (actions.ask_question, {"cid": TEXT, "body": TEXT, "anyway": FLAG, "on_behalf_of": INT}),
    "answer_question": (actions.answer_question, {"question_id": INT, "body": TEXT}),
    "write_request": (actions.write_request, {"request": TEXT, "help_kinds": LIST}),
    "accept_rules": (actions.accept_rules, {}),
    "contribute": (actions.contribute, {"cid": TEXT, "kind": TEXT, "body": TEXT, "on_behalf_of": INT}),
    "mark_contribution": (actions.mark_contribution, {"contribution_id": INT, "mark": TEXT}),
    "add_action": (
        actions.add_action,
        {"cid": TEXT, "what": TEXT, "first_step": TEXT, "due": TEXT, "success_sign": TEXT, "kept": LIST},
    ),
    "write_learning": (actions.write_learning, {"cid": TEXT, "body": TEXT, "on_behalf_of": INT}),
    "evaluate": (actions.evaluate, {"score": INT, "comment": TEXT}),
    "raise_hand": (speaking.raise_hand, {}),
    "lower_hand": (speaking.lower_hand, {"user_id": INT}),
    "give_floor": (speaking.give_floor, {"user_id": INT, "source": TEXT}),
    "speak": (speaking.speak, {"on": FLAG}),
    "end_turn": (speaking.end_turn, {}),
}
CASE_COMMAND = "edit_case"  # its fields are the case's own


def _coerce(kind: str, value):
    if kind == FLAG:  # a checkbox: present and "1"/"on"/true, or not
        return value is True or value in ("1", "on", "true")
    if value is None:
        return [] if kind == LIST else None
    if kind == TEXT:
        if not isinstance(value, str):
            raise Invalid(_("A text field received something that is not text."))
        return value
    if kind == INT:
        if isinstance(value, bool):
            raise Invalid(_("A number was expected."))
        if isinstance(value, str) and value.strip().removeprefix("-").isdecimal() and len(value) < 12:
            value = int(value)
        if isinstance(value, int):
            if abs(value) >= MAX_INT:
                raise Invalid(_("This number is out of range."))
            return value
        if isinstance(value, str) and value.strip() == "":
            return None
        raise Invalid(_("A number was expected."))
    values = value if isinstance(value, list) else [value]
    if len(values) > 100 or any(not isinstance(v, (str, int)) or isinstance(v, bool) for v in values):
        raise Invalid(_("A list of choices was expected."))
    return values


def perform(workshop_id: int, user, message) -> object:
    """Run one message as `user`. Raises an ActionError subclass with a translated message."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise Invalid(_("Malformed message: a JSON object with a “type” is expected."))
    kind = message["type"]
    if kind == CASE_COMMAND:
        fields = {name: _coerce(TEXT, message.get(name)) for name in actions.CASE_FIELDS if name in message}
        return actions.edit_case(workshop_id, fields=fields, acting_user=user)
    if kind not in COMMANDS:
        raise Invalid(_("Unknown message type: %(type)s.") % {"type": kind[:40]})
    action, spec = COMMANDS[kind]
    kwargs = {name: _coerce(field, message.get(name)) for name, field in spec.items()}
    return action(workshop_id, acting_user=user, **kwargs)
