"""What privacy keeps: how long each group keeps its content, what retention left to its owners,
and who viewed or exported what (the audit log: ids and kinds, never content)."""
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from codev.fields import EncryptedTextField
from workshops.models import Group, Workshop

User = settings.AUTH_USER_MODEL

RETENTION_RANGE = (1, 120)  # months


class GroupPolicy(models.Model):
    """A group's own retention, set by its facilitator; without a row, CODEV_RETENTION_MONTHS holds."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="policy")
    retention_months = models.PositiveSmallIntegerField(
        _("retention (months)"), validators=[MinValueValidator(RETENTION_RANGE[0]), MaxValueValidator(RETENTION_RANGE[1])]
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")


class Purge(models.Model):
    """A workshop whose content is gone (retention, or its client deleted his account): done once."""

    RETENTION, ACCOUNT = "retention", "account"
    workshop = models.OneToOneField(Workshop, on_delete=models.CASCADE, related_name="purge")
    reason = models.CharField(max_length=12, default=RETENTION)
    at = models.DateTimeField(default=timezone.now)


class ClientRecord(models.Model):
    """The record of his case a client keeps once the workshop's content is purged. His alone."""

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="client_records")
    workshop_id = models.PositiveBigIntegerField(null=True, blank=True)  # no foreign key: a number, not a link
    title = EncryptedTextField()
    workshop_title = EncryptedTextField(blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    body = EncryptedTextField()  # the record's Markdown (workshops.records.to_markdown)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "workshop_id"], name="one_client_record")]


class AuditEntry(models.Model):
    """Who did what to what, and when. `detail` holds ids and kinds only (privacy.audit checks it)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=40)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
