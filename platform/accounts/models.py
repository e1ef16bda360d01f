"""People, their organisations and their accreditations to festival sessions."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from audit.transitions import StateMachine


class EmailUserManager(UserManager["User"]):
    """Users are identified by email; there is no username."""

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person. Staff users (``is_staff``) are the festival's admins."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    language = models.CharField(
        _("preferred language"), max_length=5, choices=settings.LANGUAGES, default="en"
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    objects = EmailUserManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class CompanyType(models.TextChoices):
    PRODUCTION = "production", _("Production company")
    DISTRIBUTOR = "distributor", _("Distributor")
    WORLD_SALES = "world_sales", _("World sales")
    POST_PRODUCTION = "post_production", _("Post-production house")
    FUND = "fund", _("Fund or financier")
    FESTIVAL = "festival", _("Festival")
    BROADCASTER = "broadcaster", _("Broadcaster or platform")
    PRESS = "press", _("Press")
    OTHER = "other", _("Other")


class Organisation(models.Model):
    """A company that people act for: accreditations and, later, offers are made on its behalf."""

    name = models.CharField(_("name"), max_length=200)
    country = CountryField(_("country"))
    company_type = models.CharField(_("company type"), max_length=32, choices=CompanyType.choices)
    website = models.URLField(_("website"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(  # type: ignore[var-annotated]
        settings.AUTH_USER_MODEL, through="Membership", related_name="organisations"
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "country", name="organisation_unique_name_country")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country.code})"


class MembershipRole(models.TextChoices):
    ADMIN = "admin", pgettext_lazy("organisation role", "Administrator")
    MEMBER = "member", pgettext_lazy("organisation role", "Member")


class Membership(models.Model):
    """An approved member: every party rule (offers, threads, agreements, payments) reads these rows.

    A row is made only by ``accounts.services`` (creating an organisation, an approved request, a grant
    by an administrator), never by the member alone. Administrators decide who else belongs.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(
        pgettext_lazy("organisation role", "role"),
        max_length=16,
        choices=MembershipRole.choices,
        default=MembershipRole.MEMBER,
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique_user_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation}"


class MembershipRequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


_R = MembershipRequestStatus
MEMBERSHIP_REQUEST_MACHINE = StateMachine(
    subject="membership",
    transitions={
        _R.PENDING: frozenset({_R.APPROVED, _R.REJECTED, _R.WITHDRAWN}),
        _R.APPROVED: frozenset(),
        _R.REJECTED: frozenset(),
        _R.WITHDRAWN: frozenset(),
    },
    refusal=_("This request is %(status)s and cannot become %(target)s."),
)


class MembershipRequest(models.Model):
    """A person's request to join an existing organisation, decided by its administrators or festival admins.

    Status moves only along ``MEMBERSHIP_REQUEST_MACHINE`` (``accounts.services.memberships``); approval
    creates the ``Membership`` in the same transaction.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership_requests"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="membership_requests"
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=MembershipRequestStatus.choices,
        default=MembershipRequestStatus.PENDING,
    )
    message = models.TextField(_("message to the administrators"), blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("membership request")
        verbose_name_plural = _("membership requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One open request per person and organisation; decided ones stay for the record.
            models.UniqueConstraint(
                fields=["user", "organisation"],
                condition=models.Q(status="pending"),
                name="membership_request_one_pending",
            )
        ]
        indexes = [models.Index(fields=["organisation", "status"])]

    def __str__(self) -> str:
        return f"{self.user} → {self.organisation} ({self.get_status_display()})"


class AccreditationCategory(models.TextChoices):
    DISTRIBUTOR = "distributor", _("Distributor")
    WORLD_SALES = "world_sales", _("World sales")
    POST_PRODUCTION = "post_production", _("Post-production house")
    FUND = "fund", _("Fund or financier")
    PROGRAMMER = "programmer", _("Festival programmer")
    BROADCASTER = "broadcaster", _("Broadcaster or platform")
    PRESS = "press", _("Press")


class AccreditationStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REVOKED = "revoked", _("Revoked")


_A = AccreditationStatus
ACCREDITATION_MACHINE = StateMachine(
    subject="accreditation",
    transitions={
        _A.PENDING: frozenset({_A.APPROVED, _A.REJECTED, _A.WITHDRAWN}),
        _A.APPROVED: frozenset({_A.REVOKED, _A.WITHDRAWN}),
        _A.REJECTED: frozenset(),
        _A.WITHDRAWN: frozenset(),
        _A.REVOKED: frozenset(),
    },
    refusal=_("This accreditation is %(status)s and cannot become %(target)s."),
)


class Accreditation(models.Model):
    """A person's right to take part in one session, on behalf of one organisation, in one category.

    Status moves only along ``ACCREDITATION_MACHINE`` (``accounts.services.accreditations``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="accreditations"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="accreditations")
    session = models.ForeignKey("festival.Session", on_delete=models.PROTECT, related_name="accreditations")
    category = models.CharField(_("category"), max_length=32, choices=AccreditationCategory.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=AccreditationStatus.choices, default=AccreditationStatus.PENDING
    )
    motivation = models.TextField(_("why you are attending"), blank=True)
    terms_accepted_at = models.DateTimeField(_("terms accepted at"))
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("accreditation")
        verbose_name_plural = _("accreditations")
        ordering = ["-created_at"]
        constraints = [
            # One live application per person and session; rejected or withdrawn ones stay for the record.
            models.UniqueConstraint(
                fields=["user", "session"],
                condition=models.Q(status__in=["pending", "approved"]),
                name="accreditation_one_live_per_user_session",
            )
        ]
        indexes = [models.Index(fields=["session", "status"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.session} ({self.get_status_display()})"
