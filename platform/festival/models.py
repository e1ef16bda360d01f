"""Editions, their sessions, and the works in progress selected into them."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from festival.validators import validate_currency


class Edition(models.Model):
    year = models.PositiveIntegerField(_("year"), unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("edition")
        verbose_name_plural = _("editions")
        ordering = ["-year"]

    def __str__(self) -> str:
        return self.name


class Session(models.Model):
    """One half of an edition (Toulouse in March, San Sebastián in September)."""

    edition = models.ForeignKey(Edition, on_delete=models.PROTECT, related_name="sessions")
    name = models.CharField(_("name"), max_length=200)
    city = models.CharField(_("city"), max_length=100)
    country = CountryField(_("country"))
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    screening_days_after_end = models.PositiveIntegerField(
        _("screening days after the end"),
        default=settings.FESTIVAL_SCREENING_DAYS_AFTER_END,
        help_text=_("Screeners stay available this many days after the session ends."),
    )
    max_films = models.PositiveIntegerField(
        _("films in the selection"),
        default=settings.FESTIVAL_FILMS_PER_SESSION,
        validators=[MinValueValidator(1)],
    )

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="session_dates_ordered"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def screening_opens_at(self) -> dt.datetime:
        return dt.datetime.combine(self.starts_on, dt.time.min, tzinfo=dt.UTC)

    @property
    def screening_closes_at(self) -> dt.datetime:
        last_day = self.ends_on + dt.timedelta(days=self.screening_days_after_end)
        return dt.datetime.combine(last_day, dt.time.max, tzinfo=dt.UTC)

    def screening_window_open(self, at: dt.datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.screening_opens_at <= at <= self.screening_closes_at


class FilmStage(models.TextChoices):
    ROUGH_CUT = "rough_cut", _("Rough cut")
    FINE_CUT = "fine_cut", _("Fine cut")
    PICTURE_LOCK = "picture_lock", _("Picture lock")
    IN_POST = "in_post", _("Post-production under way")


class Genre(models.TextChoices):
    DRAMA = "drama", _("Drama")
    COMEDY = "comedy", _("Comedy")
    DOCUMENTARY = "documentary", _("Documentary")
    THRILLER = "thriller", _("Thriller")
    HORROR = "horror", _("Horror")
    FANTASY = "fantasy", _("Fantasy")
    ANIMATION = "animation", _("Animation")
    HYBRID = "hybrid", _("Hybrid")


class Film(models.Model):
    """A work in progress. It belongs to at most one session once selected."""

    session = models.ForeignKey(
        Session,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="films",
        verbose_name=_("session"),
    )
    title = models.CharField(_("title"), max_length=200)
    original_title = models.CharField(_("original title"), max_length=200, blank=True)
    directors = models.JSONField(_("directors"), default=list)
    countries = CountryField(_("countries"), multiple=True, multiple_sort=False)  # main country first
    production_company = models.CharField(_("production company"), max_length=200)
    synopsis_es = models.TextField(_("synopsis (Spanish)"), blank=True)
    synopsis_fr = models.TextField(_("synopsis (French)"), blank=True)
    synopsis_en = models.TextField(_("synopsis (English)"), blank=True)
    logline_es = models.CharField(_("logline (Spanish)"), max_length=300, blank=True)
    logline_fr = models.CharField(_("logline (French)"), max_length=300, blank=True)
    logline_en = models.CharField(_("logline (English)"), max_length=300, blank=True)
    runtime_minutes = models.PositiveIntegerField(_("runtime (minutes)"), validators=[MinValueValidator(1)])
    stage = models.CharField(_("stage"), max_length=20, choices=FilmStage.choices)
    genre = models.CharField(_("genre"), max_length=20, choices=Genre.choices)
    poster = models.ImageField(_("poster or still"), upload_to="posters/", blank=True)
    team = models.ManyToManyField(  # type: ignore[var-annotated]
        settings.AUTH_USER_MODEL, through="FilmTeamMember", related_name="films"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("film")
        verbose_name_plural = _("films")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def _localised(self, field: str) -> str:
        language = (get_language() or "en")[:2]
        text: str = getattr(self, f"{field}_{language}", "") or ""
        return text or self.__dict__.get(f"{field}_en", "") or self.__dict__.get(f"{field}_es", "")

    @property
    def synopsis(self) -> str:
        return self._localised("synopsis")

    @property
    def logline(self) -> str:
        return self._localised("logline")


class FilmTeamMember(models.Model):
    """A producer of the film's team: may edit its presentation (and later upload and negotiate)."""

    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="team_members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="film_teams")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("producer team member")
        verbose_name_plural = _("producer team")
        constraints = [models.UniqueConstraint(fields=["film", "user"], name="film_team_unique_member")]

    def __str__(self) -> str:
        return f"{self.user} — {self.film}"


class NeedCategory(models.TextChoices):
    EDITING = "editing", _("Editing")
    COLOUR_GRADING = "colour_grading", _("Colour grading")
    SOUND_EDITING = "sound_editing", _("Sound editing")
    SOUND_MIX = "sound_mix", _("Sound mix (5.1 or Atmos)")
    VFX = "vfx", _("Visual effects")
    MUSIC = "music", _("Music")
    SUBTITLING = "subtitling", _("Subtitling")
    DCP_DELIVERABLES = "dcp_deliverables", _("DCP and deliverables")
    FESTIVAL_COPIES = "festival_copies", _("Festival copies")
    OTHER = "other", _("Other")


class PostProductionNeed(models.Model):
    """What the film still needs to be finished. Money is in minor units of ``currency``."""

    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="needs")
    category = models.CharField(_("category"), max_length=32, choices=NeedCategory.choices)
    estimated_cost_minor = models.PositiveBigIntegerField(_("estimated cost (minor units)"))
    secured_minor = models.PositiveBigIntegerField(_("already secured (minor units)"), default=0)
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("post-production need")
        verbose_name_plural = _("post-production needs")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(secured_minor__lte=models.F("estimated_cost_minor")),
                name="need_secured_le_cost",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} — {self.film}"

    @property
    def gap_minor(self) -> int:
        return self.estimated_cost_minor - self.secured_minor


def _country_codes(film: Film) -> list[str]:
    return [country.code for country in film.countries]


Film.country_codes = property(_country_codes)  # type: ignore[attr-defined]
