from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = _("Screening")

    def ready(self) -> None:
        # Both import models, which exist only once the app registry is ready (that is, now).
        from festival.extensions import register_film_actions
        from screening.selectors import film_screener_actions

        register_film_actions(film_screener_actions)
