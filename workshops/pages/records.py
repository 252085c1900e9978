"""Pages: records (filled in by the issue-3 work)."""

urlpatterns: list = []


def group_context(group, user) -> dict:
    """What the group page shows about records to `user`."""
    return {}
