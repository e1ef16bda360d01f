from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = _("Offers")

    def ready(self) -> None:
        # Imported once the app registry is ready: these modules load models
        from festival.extensions import register_film_actions, register_film_sections
        from offers.selectors.offers import film_offer_actions
        from offers.support import committed_support_section

        register_film_actions(film_offer_actions)
        register_film_sections(committed_support_section)
