"""One family of exceptions for every refused action, each carrying a translated message."""


class ActionError(Exception):
    code = "refused"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = str(message)


class Refused(ActionError):
    """The method does not allow this, now, for this person."""

    code = "refused"


class AdviceHint(ActionError):
    """A clarification "question" that reads as advice: the consultant may rephrase or post anyway."""

    code = "advice"


class Forbidden(ActionError):
    """Not a member of this workshop's group."""

    code = "forbidden"


class NotFound(ActionError):
    code = "not_found"


class Conflict(ActionError):
    """Someone else changed the workshop first (two tabs, two facilitators)."""

    code = "conflict"


class Invalid(ActionError):
    """The input itself is wrong: empty, too long, malformed."""

    code = "invalid"
