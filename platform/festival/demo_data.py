"""Demo data for the Films in Progress marketplace.

Pure data, no Django imports: the seeding command turns these structures into database rows.
Everything here is fictional -- films, people and companies are invented for the demo, and every e-mail
address uses a reserved ``.example`` domain. Money is always an integer in minor units (cents) plus an
ISO 4217 currency code; countries are ISO 3166-1 alpha-2 codes.

Run this file directly to check its invariants and print a summary::

    .venv/bin/python platform/festival/demo_data.py
"""

from typing import Literal, TypedDict

CompanyType = Literal[
    "production",
    "distributor",
    "world_sales",
    "post_production",
    "fund",
    "festival",
    "broadcaster",
    "press",
    "other",
]
Language = Literal["es", "fr", "en"]
Role = Literal["admin", "producer", "professional", "applicant"]
SessionKey = Literal["toulouse", "sansebastian"]
AccreditationCategory = Literal[
    "distributor", "world_sales", "post_production", "fund", "programmer", "broadcaster", "press"
]
AccreditationStatus = Literal["approved", "pending"]
Stage = Literal["rough_cut", "fine_cut", "picture_lock", "in_post"]
Genre = Literal["drama", "comedy", "documentary", "thriller", "horror", "fantasy", "animation", "hybrid"]
NeedCategory = Literal[
    "editing",
    "colour_grading",
    "sound_editing",
    "sound_mix",
    "vfx",
    "music",
    "subtitling",
    "dcp_deliverables",
    "festival_copies",
    "other",
]
Currency = Literal["EUR", "USD"]


class EditionData(TypedDict):
    year: int
    name: str


class SessionData(TypedDict):
    key: SessionKey
    name: str
    city: str
    country: str
    venue: str
    starts_on: str  # ISO 8601 date
    ends_on: str  # ISO 8601 date


class OrganisationData(TypedDict):
    key: str
    name: str
    country: str
    company_type: CompanyType


class PersonData(TypedDict):
    key: str
    email: str
    full_name: str
    language: Language
    organisation: str  # organisation key
    role: Role


class AccreditationData(TypedDict):
    person: str  # person key
    session: SessionKey
    category: AccreditationCategory
    status: AccreditationStatus


class LocalizedText(TypedDict):
    es: str
    fr: str
    en: str


class NeedData(TypedDict):
    category: NeedCategory
    estimated_cost_minor: int
    currency: Currency
    secured_minor: int
    notes: str


class FilmData(TypedDict):
    key: str
    session: SessionKey
    title: str
    original_title: str
    directors: list[str]
    countries: list[str]
    production_company: str  # name of the organisation keyed by producer_org
    producer_org: str  # organisation key
    producers: list[str]  # person keys, lead producer first
    runtime_minutes: int
    stage: Stage
    genre: Genre
    logline: LocalizedText
    synopsis: LocalizedText
    needs: list[NeedData]


DEMO_PASSWORD = "films-in-progress-demo"  # noqa: S105 -- public demo credential, shared by all demo accounts
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 -- base32, shared by all demo accounts

EDITION: EditionData = {"year": 2027, "name": "Films in Progress 2027"}

SESSIONS: list[SessionData] = [
    {
        "key": "toulouse",
        "name": "Films in Progress 2027 — Toulouse",
        "city": "Toulouse",
        "country": "FR",
        "venue": "Cinémathèque de Toulouse",
        "starts_on": "2027-03-22",
        "ends_on": "2027-03-27",
    },
    {
        "key": "sansebastian",
        "name": "Films in Progress 2027 — San Sebastián",
        "city": "San Sebastián",
        "country": "ES",
        "venue": "Tabakalera",
        "starts_on": "2027-09-22",
        "ends_on": "2027-09-26",
    },
]

ORGANISATIONS: list[OrganisationData] = [
    # Festival staff.
    {
        "key": "cinelatino-staff",
        "name": "Films in Progress (staff)",
        "country": "FR",
        "company_type": "festival",
    },
    # Production companies of the selected films.
    {"key": "ichu-films", "name": "Ichu Films", "country": "PE", "company_type": "production"},
    {"key": "rambla-sur-films", "name": "Rambla Sur Films", "country": "UY", "company_type": "production"},
    {
        "key": "mil-tormentas-cine",
        "name": "Mil Tormentas Cine",
        "country": "CO",
        "company_type": "production",
    },
    {"key": "socavon-cine", "name": "Socavón Cine", "country": "BO", "company_type": "production"},
    {"key": "caju-voador", "name": "Caju Voador Animação", "country": "BR", "company_type": "production"},
    {"key": "coiron-cine", "name": "Coirón Cine", "country": "AR", "company_type": "production"},
    {"key": "nopalera-films", "name": "Nopalera Films", "country": "MX", "company_type": "production"},
    {"key": "niebla-austral", "name": "Niebla Austral Films", "country": "CL", "company_type": "production"},
    {"key": "arasunu-cine", "name": "Arasunu Cine", "country": "PY", "company_type": "production"},
    {
        "key": "guagua-amarilla",
        "name": "Guagua Amarilla Producciones",
        "country": "CU",
        "company_type": "production",
    },
    {"key": "chaquinan-films", "name": "Chaquiñán Films", "country": "EC", "company_type": "production"},
    # European and international industry guests.
    {
        "key": "cine-passerelle",
        "name": "Ciné-Passerelle Distribution",
        "country": "FR",
        "company_type": "distributor",
    },
    {
        "key": "nubla-distribucion",
        "name": "Nubla Distribución",
        "country": "ES",
        "company_type": "distributor",
    },
    {"key": "beffroi-films", "name": "Beffroi Films", "country": "BE", "company_type": "distributor"},
    {"key": "austral-lights", "name": "Austral Lights Sales", "country": "DE", "company_type": "world_sales"},
    {
        "key": "studio-lumen-sud",
        "name": "Studio Lumen Sud",
        "country": "FR",
        "company_type": "post_production",
    },
    {"key": "ibaia-post", "name": "Ibaia Post", "country": "ES", "company_type": "post_production"},
    {"key": "zuiderkruis-fund", "name": "Zuiderkruis Film Fund", "country": "NL", "company_type": "fund"},
    {
        "key": "porto-atlantico-ff",
        "name": "Porto Atlântico Film Festival",
        "country": "PT",
        "company_type": "festival",
    },
    {"key": "westwelle-tv", "name": "Westwelle TV", "country": "DE", "company_type": "broadcaster"},
    {"key": "frame-weekly", "name": "Frame Weekly", "country": "GB", "company_type": "press"},
]

PEOPLE: list[PersonData] = [
    # Festival staff.
    {
        "key": "claire-dufaur",
        "email": "claire.dufaur@demo.example",
        "full_name": "Claire Dufaur",
        "language": "fr",
        "organisation": "cinelatino-staff",
        "role": "admin",
    },
    # Producers: one lead producer per film team (Coirón Cine presents two films).
    {
        "key": "milagros-salcedo",
        "email": "milagros.salcedo@demo.example",
        "full_name": "Milagros Salcedo Ríos",
        "language": "es",
        "organisation": "ichu-films",
        "role": "producer",
    },
    {
        "key": "martin-ferres",
        "email": "martin.ferres@demo.example",
        "full_name": "Martín Ferrés",
        "language": "es",
        "organisation": "rambla-sur-films",
        "role": "producer",
    },
    {
        "key": "juliana-ospina",
        "email": "juliana.ospina@demo.example",
        "full_name": "Juliana Ospina Rueda",
        "language": "es",
        "organisation": "mil-tormentas-cine",
        "role": "producer",
    },
    {
        "key": "carla-villarroel",
        "email": "carla.villarroel@demo.example",
        "full_name": "Carla Villarroel Paz",
        "language": "es",
        "organisation": "socavon-cine",
        "role": "producer",
    },
    {
        "key": "renata-lins",
        "email": "renata.lins@demo.example",
        "full_name": "Renata Lins Barbosa",
        "language": "en",
        "organisation": "caju-voador",
        "role": "producer",
    },
    {
        "key": "lucia-ferreyra",
        "email": "lucia.ferreyra@demo.example",
        "full_name": "Lucía Ferreyra",
        "language": "es",
        "organisation": "coiron-cine",
        "role": "producer",
    },
    {
        "key": "tomas-barrionuevo",
        "email": "tomas.barrionuevo@demo.example",
        "full_name": "Tomás Barrionuevo",
        "language": "es",
        "organisation": "coiron-cine",
        "role": "producer",
    },
    {
        "key": "ximena-carrasco",
        "email": "ximena.carrasco@demo.example",
        "full_name": "Ximena Carrasco Luján",
        "language": "es",
        "organisation": "nopalera-films",
        "role": "producer",
    },
    {
        "key": "catalina-mardones",
        "email": "catalina.mardones@demo.example",
        "full_name": "Catalina Mardones",
        "language": "es",
        "organisation": "niebla-austral",
        "role": "producer",
    },
    {
        "key": "diego-riquelme",
        "email": "diego.riquelme@demo.example",
        "full_name": "Diego Riquelme Báez",
        "language": "es",
        "organisation": "arasunu-cine",
        "role": "producer",
    },
    {
        "key": "yanelis-cabrera",
        "email": "yanelis.cabrera@demo.example",
        "full_name": "Yanelis Cabrera Soto",
        "language": "es",
        "organisation": "guagua-amarilla",
        "role": "producer",
    },
    {
        "key": "gabriela-proano",
        "email": "gabriela.proano@demo.example",
        "full_name": "Gabriela Proaño Terán",
        "language": "es",
        "organisation": "chaquinan-films",
        "role": "producer",
    },
    # Accredited professionals.
    {
        "key": "camille-rouviere",
        "email": "camille.rouviere@demo.example",
        "full_name": "Camille Rouvière",
        "language": "fr",
        "organisation": "cine-passerelle",
        "role": "professional",
    },
    {
        "key": "irene-salvatierra",
        "email": "irene.salvatierra@demo.example",
        "full_name": "Irene Salvatierra",
        "language": "es",
        "organisation": "nubla-distribucion",
        "role": "professional",
    },
    {
        "key": "jonas-breitner",
        "email": "jonas.breitner@demo.example",
        "full_name": "Jonas Breitner",
        "language": "en",
        "organisation": "austral-lights",
        "role": "professional",
    },
    {
        "key": "mathieu-delcasse",
        "email": "mathieu.delcasse@demo.example",
        "full_name": "Mathieu Delcasse",
        "language": "fr",
        "organisation": "studio-lumen-sud",
        "role": "professional",
    },
    {
        "key": "ane-etxeberria",
        "email": "ane.etxeberria@demo.example",
        "full_name": "Ane Etxeberria",
        "language": "es",
        "organisation": "ibaia-post",
        "role": "professional",
    },
    {
        "key": "sanne-verhoeven",
        "email": "sanne.verhoeven@demo.example",
        "full_name": "Sanne Verhoeven",
        "language": "en",
        "organisation": "zuiderkruis-fund",
        "role": "professional",
    },
    {
        "key": "katrin-hollander",
        "email": "katrin.hollander@demo.example",
        "full_name": "Katrin Hollander",
        "language": "en",
        "organisation": "westwelle-tv",
        "role": "professional",
    },
    {
        "key": "ines-carvalho",
        "email": "ines.carvalho@demo.example",
        "full_name": "Inês Carvalho",
        "language": "en",
        "organisation": "porto-atlantico-ff",
        "role": "professional",
    },
    {
        "key": "oliver-pennington",
        "email": "oliver.pennington@demo.example",
        "full_name": "Oliver Pennington",
        "language": "en",
        "organisation": "frame-weekly",
        "role": "professional",
    },
    # Applicant awaiting an admin's approval.
    {
        "key": "noemie-verstraeten",
        "email": "noemie.verstraeten@demo.example",
        "full_name": "Noémie Verstraeten",
        "language": "fr",
        "organisation": "beffroi-films",
        "role": "applicant",
    },
]

ACCREDITATIONS: list[AccreditationData] = [
    {"person": "camille-rouviere", "session": "toulouse", "category": "distributor", "status": "approved"},
    {
        "person": "camille-rouviere",
        "session": "sansebastian",
        "category": "distributor",
        "status": "approved",
    },
    {"person": "irene-salvatierra", "session": "toulouse", "category": "distributor", "status": "approved"},
    {
        "person": "irene-salvatierra",
        "session": "sansebastian",
        "category": "distributor",
        "status": "approved",
    },
    {"person": "jonas-breitner", "session": "toulouse", "category": "world_sales", "status": "approved"},
    {"person": "jonas-breitner", "session": "sansebastian", "category": "world_sales", "status": "approved"},
    {
        "person": "mathieu-delcasse",
        "session": "toulouse",
        "category": "post_production",
        "status": "approved",
    },
    {
        "person": "mathieu-delcasse",
        "session": "sansebastian",
        "category": "post_production",
        "status": "approved",
    },
    {"person": "ane-etxeberria", "session": "toulouse", "category": "post_production", "status": "approved"},
    {
        "person": "ane-etxeberria",
        "session": "sansebastian",
        "category": "post_production",
        "status": "approved",
    },
    {"person": "sanne-verhoeven", "session": "toulouse", "category": "fund", "status": "approved"},
    {"person": "sanne-verhoeven", "session": "sansebastian", "category": "fund", "status": "approved"},
    {"person": "katrin-hollander", "session": "toulouse", "category": "broadcaster", "status": "approved"},
    {
        "person": "katrin-hollander",
        "session": "sansebastian",
        "category": "broadcaster",
        "status": "approved",
    },
    {"person": "ines-carvalho", "session": "toulouse", "category": "programmer", "status": "approved"},
    {"person": "oliver-pennington", "session": "sansebastian", "category": "press", "status": "approved"},
    {"person": "noemie-verstraeten", "session": "toulouse", "category": "distributor", "status": "pending"},
]

FILMS: list[FilmData] = [
    {
        "key": "heart-of-the-water",
        "session": "toulouse",
        "title": "The Heart of the Water",
        "original_title": "Yakup Sunqun",
        "directors": [
            "Wilmer Ccahuana Quispe",
        ],
        "countries": [
            "PE",
            "FR",
        ],
        "production_company": "Ichu Films",
        "producer_org": "ichu-films",
        "producers": [
            "milagros-salcedo",
        ],
        "runtime_minutes": 94,
        "stage": "fine_cut",
        "genre": "drama",
        "logline": {
            "es": (
                "Cuando una empresa minera empieza a drenar la laguna que da de beber a su "
                "comunidad en los Andes peruanos, una joven pastora quechua debe elegir entre el "
                "empleo que pagaría los estudios de su hermano y la lucha que su abuela nunca "
                "abandonó."
            ),
            "fr": (
                "Lorsqu'une compagnie minière commence à assécher le lac qui abreuve son village "
                "des Andes péruviennes, une jeune bergère quechua doit choisir entre l'emploi qui "
                "paierait les études de son frère et le combat que sa grand-mère n'a jamais "
                "abandonné."
            ),
            "en": (
                "When a mining company starts draining the lagoon that waters her community in "
                "the Peruvian Andes, a young Quechua shepherd must choose between the job that "
                "would pay for her brother's schooling and the fight her grandmother never gave "
                "up."
            ),
        },
        "synopsis": {
            "es": (
                "Apurímac, a 4.200 metros sobre el nivel del mar. Nayra, de diecinueve años, "
                "pastorea alpacas con su abuela Justina a orillas de Qucha Hatun, la laguna que "
                "la comunidad considera un ser vivo. Cuando la minera que compró los cerros "
                "vecinos le ofrece un puesto de relacionista comunitaria, Nayra ve la oportunidad "
                "de mandar a su hermano menor a estudiar al Cusco. Pero el nivel del agua baja, "
                "los manantiales se secan y Justina, que ya no quiere hablar castellano, se "
                "prepara para bloquear la carretera. Rodada con actores no profesionales de la "
                "comunidad, casi íntegramente en quechua, la película es el retrato íntimo de una "
                "lealtad dividida entre la supervivencia y la tierra."
            ),
            "fr": (
                "Apurímac, à 4 200 mètres d'altitude. Nayra, dix-neuf ans, garde des alpagas avec "
                "sa grand-mère Justina au bord de Qucha Hatun, le lac que la communauté considère "
                "comme un être vivant. Lorsque la compagnie minière qui a racheté les collines "
                "voisines lui propose un poste de chargée des relations communautaires, Nayra y "
                "voit le moyen d'envoyer son petit frère étudier à Cusco. Mais le niveau de l'eau "
                "baisse, les sources se tarissent et Justina, qui refuse désormais de parler "
                "espagnol, se prépare à bloquer la route. Tourné avec des acteurs non "
                "professionnels de la communauté, presque entièrement en quechua, le film est le "
                "portrait intime d'une loyauté déchirée entre la survie et la terre."
            ),
            "en": (
                "Apurímac, 4,200 metres above sea level. Nineteen-year-old Nayra herds alpacas "
                "with her grandmother Justina on the shores of Qucha Hatun, the lagoon that the "
                "community regards as a living being. When the mining company that has bought the "
                "neighbouring hills offers her a job as community liaison officer, Nayra sees a "
                "way to send her younger brother to school in Cusco. But the water level is "
                "dropping, the springs are drying up, and Justina, who now refuses to speak "
                "Spanish, is preparing to block the road. Shot with non-professional actors from "
                "the community, almost entirely in Quechua, the film is an intimate portrait of a "
                "loyalty torn between survival and the land."
            ),
        },
        "needs": [
            {
                "category": "editing",
                "estimated_cost_minor": 700000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Three weeks of editing follow-up with a consultant editor before picture lock.",
            },
            {
                "category": "colour_grading",
                "estimated_cost_minor": 1600000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "4K grade of high-altitude exteriors shot on two different camera bodies.",
            },
            {
                "category": "sound_mix",
                "estimated_cost_minor": 1800000,
                "currency": "EUR",
                "secured_minor": 600000,
                "notes": "5.1 mix; a national completion grant covers one third.",
            },
            {
                "category": "subtitling",
                "estimated_cost_minor": 240000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Quechua and Spanish dialogue: Spanish, English and French subtitles.",
            },
            {
                "category": "dcp_deliverables",
                "estimated_cost_minor": 450000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "DCP, IMF package and broadcast deliverables.",
            },
        ],
    },
    {
        "key": "rooms-for-rent",
        "session": "toulouse",
        "title": "Rooms for Rent",
        "original_title": "Se alquilan piezas",
        "directors": [
            "Florencia Abelenda",
        ],
        "countries": [
            "UY",
            "AR",
            "ES",
        ],
        "production_company": "Rambla Sur Films",
        "producer_org": "rambla-sur-films",
        "producers": [
            "martin-ferres",
        ],
        "runtime_minutes": 102,
        "stage": "picture_lock",
        "genre": "comedy",
        "logline": {
            "es": (
                "Tras la muerte de la mujer que la fundó, la familia que administra una pensión "
                "venida a menos en el Barrio Sur de Montevideo tiene un invierno para decidir si "
                "la vende, mientras los inquilinos conspiran en silencio para impedirlo."
            ),
            "fr": (
                "Après la mort de celle qui l'a fondée, la famille qui tient une pension "
                "décrépite du Barrio Sur, à Montevideo, a un hiver pour décider de la vendre, "
                "tandis que les pensionnaires complotent en silence pour l'en empêcher."
            ),
            "en": (
                "After the death of the woman who founded it, the family that runs a crumbling "
                "boarding house in Montevideo's Barrio Sur has one winter to decide whether to "
                "sell, while the lodgers quietly plot to stop them."
            ),
        },
        "synopsis": {
            "es": (
                "Durante cincuenta años, doña Elvira manejó la Pensión Ferreira con mano firme y "
                "una libreta de deudas que nadie pagó jamás. En el velorio, su hijo Raúl, chofer "
                "de ómnibus jubilado, su mujer Mirta y la nieta de ambos, Sofía, recién llegada "
                "de Madrid, se enteran de que una inmobiliaria hizo una oferta por el edificio. "
                "Los inquilinos —un árbitro de fútbol retirado, una enfermera cubana, un vendedor "
                "ambulante senegalés y un estudiante de filosofía que nunca sale de su pieza— no "
                "tienen la menor intención de irse. A lo largo de un invierno lluvioso de ensayos "
                "de candombe, cocinas compartidas y caños reventados, la familia descubre todo lo "
                "que la vieja casa mantenía en pie."
            ),
            "fr": (
                "Pendant cinquante ans, doña Elvira a tenu la Pension Ferreira d'une main ferme, "
                "avec un carnet de dettes que personne n'a jamais remboursées. Lors de la veillée "
                "funèbre, son fils Raúl, chauffeur de bus à la retraite, sa femme Mirta et leur "
                "petite-fille Sofía, tout juste rentrée de Madrid, apprennent qu'un promoteur a "
                "fait une offre sur l'immeuble. Les pensionnaires — un arbitre de football à la "
                "retraite, une infirmière cubaine, un vendeur ambulant sénégalais et un étudiant "
                "en philosophie qui ne sort jamais de sa chambre — n'ont aucune intention de "
                "partir. Au fil d'un hiver pluvieux fait de répétitions de candombe, de cuisines "
                "partagées et de canalisations qui éclatent, la famille découvre tout ce que la "
                "vieille maison tenait debout."
            ),
            "en": (
                "For fifty years, Doña Elvira ran the Pensión Ferreira with a firm hand and a "
                "notebook of debts that nobody ever paid. At her wake, her son Raúl, a retired "
                "bus driver, his wife Mirta and their granddaughter Sofía, just back from Madrid, "
                "learn that a developer has made an offer on the building. The lodgers — a "
                "retired football referee, a Cuban nurse, a Senegalese street vendor and a "
                "philosophy student who never leaves his room — have no intention of going "
                "anywhere. Over a rainy winter of candombe rehearsals, shared kitchens and burst "
                "pipes, the family discovers everything the old house has been holding together."
            ),
        },
        "needs": [
            {
                "category": "colour_grading",
                "estimated_cost_minor": 1100000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Mostly interiors lit with practicals; matching two winter exteriors.",
            },
            {
                "category": "sound_editing",
                "estimated_cost_minor": 800000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Dialogue editing and ADR for two of the lodgers.",
            },
            {
                "category": "sound_mix",
                "estimated_cost_minor": 1400000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "5.1 mix; candombe drums were recorded live on set.",
            },
            {
                "category": "music",
                "estimated_cost_minor": 600000,
                "currency": "EUR",
                "secured_minor": 300000,
                "notes": "Licensing of two 1950s tangos; the composer's fee is already covered.",
            },
            {
                "category": "subtitling",
                "estimated_cost_minor": 150000,
                "currency": "EUR",
                "secured_minor": 150000,
                "notes": "English and French subtitles, already commissioned by the Spanish co-producer.",
            },
        ],
    },
    {
        "key": "keep-your-guard-up",
        "session": "toulouse",
        "title": "Keep Your Guard Up",
        "original_title": "La guardia en alto",
        "directors": [
            "Daniela Mosquera Ortiz",
        ],
        "countries": [
            "CO",
            "FR",
        ],
        "production_company": "Mil Tormentas Cine",
        "producer_org": "mil-tormentas-cine",
        "producers": [
            "juliana-ospina",
        ],
        "runtime_minutes": 98,
        "stage": "fine_cut",
        "genre": "drama",
        "logline": {
            "es": (
                "En un gimnasio de boxeo del sur de Bogotá, una mujer trans se prepara para su "
                "primera pelea oficial en la categoría femenina, mientras el padre que le enseñó "
                "a pelear se niega a acompañarla en su esquina."
            ),
            "fr": (
                "Dans une salle de boxe du sud de Bogotá, une femme trans se prépare à son "
                "premier combat officiel dans la catégorie féminine, tandis que le père qui lui a "
                "appris à boxer refuse de se tenir dans son coin."
            ),
            "en": (
                "In a boxing gym in the south of Bogotá, a trans woman prepares for her first "
                "official bout in the women's category, while the father who taught her to fight "
                "refuses to stand in her corner."
            ),
        },
        "synopsis": {
            "es": (
                "Valentina Rentería, de 27 años, creció en el gimnasio de boxeo de su padre en "
                "Ciudad Bolívar y peleó durante años como amateur con el nombre que le pusieron "
                "al nacer. Dos años después de su transición, la federación nacional por fin le "
                "permite competir en la categoría femenina, a condición de que supere un control "
                "hormonal y consiga un entrenador con licencia que firme por ella. Su padre, "
                "Óscar, que le enseñó todo, se niega a firmar. Con la ayuda de Dayana, la mujer "
                "que limpia el gimnasio y que alguna vez también boxeó, Valentina se prepara para "
                "la pelea que decidirá si puede seguir haciendo lo único que sabe hacer."
            ),
            "fr": (
                "Valentina Rentería, 27 ans, a grandi dans la salle de boxe de son père à Ciudad "
                "Bolívar et a combattu pendant des années en amateur sous le nom qu'on lui avait "
                "donné à la naissance. Deux ans après sa transition, la fédération nationale "
                "l'autorise enfin à concourir dans la catégorie féminine, à condition de passer "
                "un contrôle hormonal et de trouver un entraîneur licencié qui accepte de signer "
                "pour elle. Son père, Óscar, qui lui a tout appris, refuse de signer. Avec l'aide "
                "de Dayana, la femme de ménage de la salle qui a elle aussi boxé autrefois, "
                "Valentina se prépare au combat qui décidera si elle peut continuer à faire la "
                "seule chose qu'elle sache faire."
            ),
            "en": (
                "Valentina Rentería, 27, grew up in her father's boxing gym in Ciudad Bolívar and "
                "fought for years as an amateur under the name she was given at birth. Two years "
                "after her transition, the national federation finally allows her to compete in "
                "the women's category, provided she passes a hormone test and finds a licensed "
                "coach willing to sign for her. Her father Óscar, who taught her everything, "
                "refuses to sign. With the help of Dayana, the gym's cleaner, who once boxed "
                "herself, Valentina prepares for the fight that will decide whether she can keep "
                "doing the only thing she knows how to do."
            ),
        },
        "needs": [
            {
                "category": "editing",
                "estimated_cost_minor": 800000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Four weeks of editing follow-up to tighten the second act.",
            },
            {
                "category": "colour_grading",
                "estimated_cost_minor": 1400000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Grade of 16 mm gym footage and digital night exteriors.",
            },
            {
                "category": "sound_editing",
                "estimated_cost_minor": 1000000,
                "currency": "EUR",
                "secured_minor": 250000,
                "notes": "Punch and crowd foley for three fight sequences.",
            },
            {
                "category": "sound_mix",
                "estimated_cost_minor": 1600000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "5.1 theatrical mix and stereo fold-down.",
            },
            {
                "category": "vfx",
                "estimated_cost_minor": 600000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Crowd extension for the final bout, about 18 shots.",
            },
        ],
    },
    {
        "key": "belly-of-the-mountain",
        "session": "toulouse",
        "title": "The Belly of the Mountain",
        "original_title": "Las entrañas del cerro",
        "directors": [
            "Marcelo Choque Arancibia",
        ],
        "countries": [
            "BO",
            "DE",
        ],
        "production_company": "Socavón Cine",
        "producer_org": "socavon-cine",
        "producers": [
            "carla-villarroel",
        ],
        "runtime_minutes": 84,
        "stage": "rough_cut",
        "genre": "documentary",
        "logline": {
            "es": (
                "Durante un año en el interior del Cerro Rico de Potosí, un padre y su hijo, "
                "socios de una cooperativa minera, filman su propio descenso a una montaña que se "
                "derrumba poco a poco."
            ),
            "fr": (
                "Pendant un an, à l'intérieur du Cerro Rico de Potosí, un père et son fils, "
                "membres d'une coopérative minière, filment leur propre descente dans une "
                "montagne qui s'effondre peu à peu."
            ),
            "en": (
                "Over one year inside Potosí's Cerro Rico, a father and son who work in a miners' "
                "cooperative film their own descent into a mountain that is slowly collapsing."
            ),
        },
        "synopsis": {
            "es": (
                "Don Faustino trabaja dentro del Cerro Rico desde hace treinta y cuatro años; su "
                "hijo Limbert, de veinte, entró a la cooperativa después de reprobar el examen de "
                "ingreso a la universidad. El director les entregó cámaras de casco y los deja "
                "filmar sus turnos, las ofrendas de coca y alcohol al Tío, las explosiones y los "
                "largos silencios de los socavones. Afuera, la cima del cerro sigue hundiéndose, "
                "el precio del estaño sube y baja, y la madre de Limbert cuenta los días que "
                "faltan para que él se vaya. Sin voz en off, la película acompaña un año de "
                "trabajo, miedo y ternura entre dos hombres que solo saben hablarse bajo tierra."
            ),
            "fr": (
                "Don Faustino travaille à l'intérieur du Cerro Rico depuis trente-quatre ans ; "
                "son fils Limbert, vingt ans, a rejoint la coopérative après avoir échoué à "
                "l'examen d'entrée à l'université. Le réalisateur leur a confié des caméras de "
                "casque et les laisse filmer leurs journées de travail, les offrandes de coca et "
                "d'alcool au Tío, les explosions et les longs silences des galeries. Dehors, le "
                "sommet de la montagne continue de s'affaisser, le cours de l'étain monte et "
                "descend, et la mère de Limbert compte les jours qui le séparent de son départ. "
                "Sans commentaire, le film accompagne une année de travail, de peur et de "
                "tendresse entre deux hommes qui ne savent se parler que sous terre."
            ),
            "en": (
                "Don Faustino has worked inside the Cerro Rico for thirty-four years; his son "
                "Limbert, twenty, joined the cooperative after failing his university entrance "
                "exam. The director gave them helmet cameras and lets them film their shifts, the "
                "offerings of coca leaves and alcohol to the Tío, the blasts and the long "
                "silences of the tunnels. Outside, the summit of the mountain keeps sinking, the "
                "price of tin rises and falls, and Limbert's mother counts the days until he can "
                "leave. Without voice-over, the film follows a year of work, fear and tenderness "
                "between two men who only know how to talk to each other underground."
            ),
        },
        "needs": [
            {
                "category": "editing",
                "estimated_cost_minor": 1200000,
                "currency": "USD",
                "secured_minor": 300000,
                "notes": "Six weeks of edit suite and consultant editor; 220 hours of footage.",
            },
            {
                "category": "colour_grading",
                "estimated_cost_minor": 1300000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Low-light underground footage from helmet cameras; heavy noise reduction.",
            },
            {
                "category": "sound_editing",
                "estimated_cost_minor": 900000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Rebuilding underground ambiences and blast sound design.",
            },
            {
                "category": "sound_mix",
                "estimated_cost_minor": 1200000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "5.1 mix; the German co-producer can host the mix in Cologne.",
            },
            {
                "category": "subtitling",
                "estimated_cost_minor": 180000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Spanish and Quechua dialogue: English, French and German subtitles.",
            },
        ],
    },
    {
        "key": "the-paper-river",
        "session": "toulouse",
        "title": "The Paper River",
        "original_title": "O Rio de Papel",
        "directors": [
            "Tiago Albuquerque Sena",
            "Luana Medeiros",
        ],
        "countries": [
            "BR",
            "FR",
        ],
        "production_company": "Caju Voador Animação",
        "producer_org": "caju-voador",
        "producers": [
            "renata-lins",
        ],
        "runtime_minutes": 78,
        "stage": "in_post",
        "genre": "animation",
        "logline": {
            "es": (
                "Cuando las inundaciones de Recife arrastran los tacos de madera que su abuelo "
                "tallaba para sus folletos de cordel, Dandara, de nueve años, empieza a tallar "
                "los suyos, y las criaturas que imprime cobran vida."
            ),
            "fr": (
                "Quand les inondations de Recife emportent les bois gravés que son grand-père "
                "taillait pour ses livrets de cordel, Dandara, neuf ans, se met à graver les "
                "siens, et les créatures qu'elle imprime prennent vie."
            ),
            "en": (
                "When the floods in Recife wash away the woodblocks her grandfather carved for "
                "his cordel booklets, nine-year-old Dandara starts carving her own, and the "
                "creatures she prints come to life."
            ),
        },
        "synopsis": {
            "es": (
                "Seu Zé Ramos lleva sesenta años imprimiendo folletos de cordel en el mismo "
                "taller del centro histórico de Recife; ya no recuerda los nombres de sus nietos, "
                "pero se sabe de memoria cada verso. Cuando el río Capibaribe se desborda y se "
                "lleva sus tacos de madera, deja de hablar. Dandara, su nieta de nueve años, "
                "aprende a tallar a escondidas, y las criaturas que imprime —una cabra tuerta, un "
                "pez con aureola de santo, un cangrejo volador— escapan del papel para ayudarla a "
                "recuperar las historias del abuelo. Animada en un estilo inspirado en los "
                "grabados en madera del nordeste brasileño, la película es un cuento sobre la "
                "memoria, el clima y la terquedad de quienes hacen las cosas con las manos."
            ),
            "fr": (
                "Seu Zé Ramos imprime des livrets de cordel dans le même atelier du vieux centre "
                "de Recife depuis soixante ans ; il a oublié le prénom de ses petits-enfants, "
                "mais connaît chaque vers par cœur. Quand le fleuve Capibaribe déborde et emporte "
                "ses bois gravés, il cesse de parler. Dandara, sa petite-fille de neuf ans, "
                "apprend en cachette à graver, et les créatures qu'elle imprime — une chèvre "
                "borgne, un poisson auréolé comme un saint, un crabe volant — s'échappent du "
                "papier pour l'aider à retrouver les histoires de son grand-père. Animé dans un "
                "style inspiré des gravures sur bois du Nordeste brésilien, le film est un conte "
                "sur la mémoire, le climat et l'obstination de ceux qui fabriquent les choses de "
                "leurs mains."
            ),
            "en": (
                "Seu Zé Ramos has printed cordel booklets in the same workshop in Recife's old "
                "centre for sixty years; he has forgotten his grandchildren's names, but he knows "
                "every verse by heart. When the Capibaribe river overflows and carries off his "
                "woodblocks, he stops speaking. Dandara, his nine-year-old granddaughter, "
                "secretly teaches herself to carve, and the creatures she prints — a one-eyed "
                "goat, a fish with a saint's halo, a flying crab — escape from the paper to help "
                "her bring back her grandfather's stories. Animated in a style inspired by the "
                "woodcut prints of north-eastern Brazil, the film is a tale about memory, climate "
                "and the stubbornness of people who make things by hand."
            ),
        },
        "needs": [
            {
                "category": "vfx",
                "estimated_cost_minor": 3500000,
                "currency": "EUR",
                "secured_minor": 1200000,
                "notes": "Compositing and effects animation for the flood sequences (about 11 minutes).",
            },
            {
                "category": "music",
                "estimated_cost_minor": 1200000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Original score recorded with a maracatu percussion ensemble.",
            },
            {
                "category": "sound_editing",
                "estimated_cost_minor": 1000000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Foley and sound design for the whole animated feature.",
            },
            {
                "category": "sound_mix",
                "estimated_cost_minor": 2200000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "5.1 and stereo mixes plus M&E track for dubbed versions.",
            },
            {
                "category": "other",
                "estimated_cost_minor": 900000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "French dubbing for family audiences: voice cast and studio.",
            },
        ],
    },
    {
        "key": "where-the-fence-ends",
        "session": "toulouse",
        "title": "Where the Fence Ends",
        "original_title": "Donde termina el alambrado",
        "directors": [
            "Julián Ezcurra",
        ],
        "countries": [
            "AR",
            "CL",
            "ES",
        ],
        "production_company": "Coirón Cine",
        "producer_org": "coiron-cine",
        "producers": [
            "lucia-ferreyra",
            "tomas-barrionuevo",
        ],
        "runtime_minutes": 118,
        "stage": "picture_lock",
        "genre": "thriller",
        "logline": {
            "es": (
                "En una estancia patagónica recién vendida a un inversor extranjero, un viejo "
                "capataz cabalga por la estepa para averiguar quién mató al joven esquilador "
                "chileno que apareció muerto junto al nuevo alambrado."
            ),
            "fr": (
                "Dans une estancia de Patagonie tout juste vendue à un investisseur étranger, un "
                "vieux contremaître traverse la steppe à cheval pour découvrir qui a tué le jeune "
                "tondeur chilien retrouvé mort contre la nouvelle clôture."
            ),
            "en": (
                "On a Patagonian estancia just sold to a foreign investor, an ageing foreman "
                "rides across the steppe to find out who killed the young Chilean shearer found "
                "dead against the new fence."
            ),
        },
        "synopsis": {
            "es": (
                "Santa Cruz, fin del invierno. Rosendo Aguilar lleva treinta años como capataz de "
                "La Cautiva cuando los dueños, que nunca la pisaron, la venden junto con el único "
                "camino al lago que las familias vecinas usaron siempre. En una sola semana, el "
                "nuevo administrador hace levantar un alambrado que corta el camino. Cuando "
                "Nahuel, un joven esquilador chileno al que Rosendo había tomado bajo su "
                "protección, aparece congelado contra el alambre, la policía habla de un "
                "accidente. Rosendo ensilla su caballo y, con el viento en contra, sale a cruzar "
                "doscientos kilómetros de estepa para demostrar lo contrario."
            ),
            "fr": (
                "Santa Cruz, fin de l'hiver. Rosendo Aguilar est contremaître de La Cautiva "
                "depuis trente ans lorsque les propriétaires, qui n'y ont jamais mis les pieds, "
                "la vendent avec l'unique chemin menant au lac, que les familles voisines ont "
                "toujours emprunté. En une seule semaine, le nouvel administrateur fait dresser "
                "une clôture en travers du chemin. Quand Nahuel, un jeune tondeur chilien que "
                "Rosendo avait pris sous son aile, est retrouvé mort de froid contre les "
                "barbelés, la police conclut à un accident. Rosendo selle son cheval et, vent de "
                "face, part traverser deux cents kilomètres de steppe pour prouver le contraire."
            ),
            "en": (
                "Santa Cruz, at the end of winter. Rosendo Aguilar has been the foreman of La "
                "Cautiva for thirty years when its owners, who never set foot on it, sell the "
                "estancia together with the only road to the lake that the neighbouring families "
                "have always used. In a single week, the new manager has a fence built across the "
                "road. When Nahuel, a young Chilean shearer whom Rosendo had taken under his "
                "wing, is found frozen against the wire, the police call it an accident. Rosendo "
                "saddles his horse and, riding into the wind, sets out across two hundred "
                "kilometres of steppe to prove otherwise."
            ),
        },
        "needs": [
            {
                "category": "colour_grading",
                "estimated_cost_minor": 2200000,
                "currency": "EUR",
                "secured_minor": 1000000,
                "notes": "Scope grade of steppe exteriors in harsh winter light.",
            },
            {
                "category": "sound_mix",
                "estimated_cost_minor": 2600000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "5.1 mix with Atmos-ready stems; the wind design is central to the film.",
            },
            {
                "category": "vfx",
                "estimated_cost_minor": 1800000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Removal of wind turbines and power lines, sky replacement: 14 shots.",
            },
            {
                "category": "music",
                "estimated_cost_minor": 900000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Recording sessions for the score with a string quartet.",
            },
            {
                "category": "dcp_deliverables",
                "estimated_cost_minor": 450000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "DCP, IMF package and international deliverables.",
            },
        ],
    },
    {
        "key": "those-who-cross-at-night",
        "session": "sansebastian",
        "title": "Those Who Cross at Night",
        "original_title": "Los que cruzan de noche",
        "directors": [
            "Rodrigo Zaragoza Ibarra",
        ],
        "countries": [
            "MX",
            "ES",
        ],
        "production_company": "Nopalera Films",
        "producer_org": "nopalera-films",
        "producers": [
            "ximena-carrasco",
        ],
        "runtime_minutes": 107,
        "stage": "picture_lock",
        "genre": "thriller",
        "logline": {
            "es": (
                "Un operador de grúa que rescata autos abandonados en el desierto de Sonora "
                "encuentra a una adolescente hondureña escondida en una cajuela y tiene hasta el "
                "amanecer para ponerla a salvo antes de que vuelvan por ella los hombres que la "
                "perdieron."
            ),
            "fr": (
                "Un dépanneur qui remorque les voitures abandonnées dans le désert de Sonora "
                "découvre une adolescente hondurienne cachée dans un coffre et n'a que jusqu'à "
                "l'aube pour la mettre à l'abri avant que les hommes qui l'ont perdue ne "
                "reviennent la chercher."
            ),
            "en": (
                "A tow-truck driver who hauls abandoned cars out of the Sonoran desert finds a "
                "Honduran teenager hidden in a car boot, and has until dawn to get her to safety "
                "before the men who lost her come back for her."
            ),
        },
        "synopsis": {
            "es": (
                "Abel Ruelas, de cincuenta años, lleva una década remolcando los autos que se "
                "traga el desierto entre Altar y Sásabe, y aprendió a no abrir las cajuelas. Una "
                "noche, en una camioneta calcinada, encuentra a Keyla, de quince años, "
                "deshidratada y con un número de teléfono escrito en el brazo. Los hombres que la "
                "transportaban ya vienen por la carretera, y la policía municipal trabaja para "
                "ellos. En tiempo real, del anochecer al alba, Abel y Keyla atraviesan un "
                "desierto donde cada luz en el horizonte puede ser la salvación o el final. Un "
                "thriller tenso, casi sin palabras, que hace de la frontera un lugar de "
                "decisiones morales y no un espectáculo."
            ),
            "fr": (
                "Abel Ruelas, cinquante ans, remorque depuis dix ans les voitures que le désert "
                "avale entre Altar et Sásabe, et il a appris à ne jamais ouvrir les coffres. Une "
                "nuit, dans un pick-up calciné, il découvre Keyla, quinze ans, déshydratée, un "
                "numéro de téléphone écrit sur le bras. Les hommes qui la transportaient sont "
                "déjà sur la route, et la police municipale travaille pour eux. En temps réel, du "
                "crépuscule à l'aube, Abel et Keyla traversent un désert où chaque lumière à "
                "l'horizon peut être le salut ou la fin. Un thriller tendu, presque sans paroles, "
                "qui fait de la frontière un lieu de choix moraux plutôt qu'un spectacle."
            ),
            "en": (
                "Abel Ruelas, fifty, has spent a decade towing the cars that the desert swallows "
                "between Altar and Sásabe, and he has learned never to open the boots. One night, "
                "in a burnt-out pickup, he finds fifteen-year-old Keyla, dehydrated, with a phone "
                "number written on her arm. The men who were transporting her are already on the "
                "road, and the municipal police work for them. In real time, from dusk to dawn, "
                "Abel and Keyla cross a desert where every light on the horizon may mean rescue "
                "or the end. A tense, almost wordless thriller that makes the border a place of "
                "moral choices rather than a spectacle."
            ),
        },
        "needs": [
            {
                "category": "sound_editing",
                "estimated_cost_minor": 1400000,
                "currency": "USD",
                "secured_minor": 0,
                "notes": "Night desert ambiences, vehicles and gunshots.",
            },
            {
                "category": "sound_mix",
                "estimated_cost_minor": 2400000,
                "currency": "USD",
                "secured_minor": 1200000,
                "notes": "5.1 mix; half already covered by a Mexico City studio.",
            },
            {
                "category": "colour_grading",
                "estimated_cost_minor": 1800000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Night exteriors lit by headlights only; noise reduction and matching.",
            },
            {
                "category": "vfx",
                "estimated_cost_minor": 2500000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Muzzle flashes and vehicle crash compositing, about 40 shots.",
            },
            {
                "category": "festival_copies",
                "estimated_cost_minor": 250000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Two encrypted festival DCPs with KDM management.",
            },
        ],
    },
    {
        "key": "red-tide",
        "session": "sansebastian",
        "title": "Red Tide",
        "original_title": "Marea roja",
        "directors": [
            "Ignacio Vergara Lienlaf",
        ],
        "countries": [
            "CL",
            "FR",
        ],
        "production_company": "Niebla Austral Films",
        "producer_org": "niebla-austral",
        "producers": [
            "catalina-mardones",
        ],
        "runtime_minutes": 91,
        "stage": "in_post",
        "genre": "horror",
        "logline": {
            "es": (
                "Mientras una floración de algas tóxicas mata millones de salmones frente a las "
                "costas de Chiloé, una buzo de un centro de cultivo empieza a sospechar que el "
                "mar se está llevando, uno a uno, a los hombres que lo explotaron."
            ),
            "fr": (
                "Tandis qu'une prolifération d'algues toxiques tue des millions de saumons au "
                "large de Chiloé, une plongeuse d'une ferme aquacole commence à soupçonner que la "
                "mer reprend, un à un, les hommes qui l'ont exploitée."
            ),
            "en": (
                "As a toxic algal bloom kills millions of salmon off the coast of Chiloé, a diver "
                "at a fish farm begins to suspect that the sea is taking back, one by one, the "
                "men who exploited it."
            ),
        },
        "synopsis": {
            "es": (
                "Millaray, de treinta y dos años, es la única mujer buzo de un centro salmonero "
                "del sur de Chiloé. Cuando llega la marea roja, la empresa ordena arrojar de "
                "noche los peces muertos al mar, y los buzos empiezan a desaparecer: primero el "
                "sobrino del jefe de centro, después el patrón de la lancha. La abuela de "
                "Millaray, que todavía pone un plato en la mesa para su marido ahogado, dice que "
                "el mar lleva la cuenta. Entre el encubrimiento de la empresa, el bloqueo de los "
                "pescadores y lo que alcanza a ver bajo las jaulas, Millaray tendrá que decidir "
                "si cree en las viejas historias. Una película de terror atmosférica, arraigada "
                "en la mitología chilota y en una de las peores crisis ambientales de la región."
            ),
            "fr": (
                "Millaray, trente-deux ans, est la seule femme plongeuse d'une ferme de saumons "
                "du sud de Chiloé. Quand arrive la marée rouge, l'entreprise fait jeter de nuit "
                "les poissons morts à la mer, et les plongeurs commencent à disparaître : d'abord "
                "le neveu du chef de site, puis le patron de la vedette. La grand-mère de "
                "Millaray, qui met encore un couvert pour son mari noyé, affirme que la mer tient "
                "ses comptes. Entre les mensonges de l'entreprise, le blocus des pêcheurs et ce "
                "qu'elle entrevoit sous les cages, Millaray devra décider si elle croit aux "
                "vieilles histoires. Un film d'horreur atmosphérique, enraciné dans la mythologie "
                "de Chiloé et dans l'une des pires crises environnementales de la région."
            ),
            "en": (
                "Thirty-two-year-old Millaray is the only woman diver at a salmon farm in the "
                "south of Chiloé. When the red tide arrives, the company orders the dead fish to "
                "be dumped at sea by night, and the divers begin to disappear: first the site "
                "manager's nephew, then the skipper of the launch. Millaray's grandmother, who "
                "still sets a place at the table for her drowned husband, says the sea keeps "
                "count. Between the company's cover-up, the fishermen's blockade and what she "
                "glimpses beneath the cages, Millaray will have to decide whether to believe the "
                "old stories. An atmospheric horror film rooted in the mythology of Chiloé and in "
                "one of the worst environmental crises in the region."
            ),
        },
        "needs": [
            {
                "category": "vfx",
                "estimated_cost_minor": 4800000,
                "currency": "EUR",
                "secured_minor": 1500000,
                "notes": "Underwater creature shots and algal bloom simulation, 65 shots.",
            },
            {
                "category": "sound_editing",
                "estimated_cost_minor": 1500000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Creature and underwater sound design.",
            },
            {
                "category": "sound_mix",
                "estimated_cost_minor": 2000000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "5.1 mix with Atmos-ready stems.",
            },
            {
                "category": "colour_grading",
                "estimated_cost_minor": 1500000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "HDR and SDR grades; underwater footage to match.",
            },
            {
                "category": "music",
                "estimated_cost_minor": 800000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Electronic score plus a recording session with a local choir.",
            },
        ],
    },
    {
        "key": "where-the-sun-goes-down",
        "session": "sansebastian",
        "title": "Where the Sun Goes Down",
        "original_title": "Kuarahyreike",
        "directors": [
            "Fátima Benítez Acosta",
        ],
        "countries": [
            "PY",
            "AR",
            "DE",
        ],
        "production_company": "Arasunu Cine",
        "producer_org": "arasunu-cine",
        "producers": [
            "diego-riquelme",
        ],
        "runtime_minutes": 88,
        "stage": "fine_cut",
        "genre": "drama",
        "logline": {
            "es": (
                "Cuando el río inunda su barrio de Asunción, una abuela que solo habla guaraní y "
                "la nieta que le traduce el mundo esperan en un refugio a que el agua, y la "
                "ciudad, las dejen volver a casa."
            ),
            "fr": (
                "Quand le fleuve inonde leur quartier d'Asunción, une grand-mère qui ne parle que "
                "guarani et la petite-fille qui lui traduit le monde attendent dans un abri "
                "provisoire que l'eau, et la ville, les laissent rentrer chez elles."
            ),
            "en": (
                "When the river floods their neighbourhood in Asunción, a grandmother who speaks "
                "only Guaraní and the granddaughter who translates the world for her wait in a "
                "shelter for the water, and the city, to let them go home."
            ),
        },
        "synopsis": {
            "es": (
                "Cada tres o cuatro años el río Paraguay crece y las familias del Bañado Sur se "
                "mudan, con sus camas, sus gallinas y sus santos, a carpas instaladas en un "
                "predio militar de la parte alta de la ciudad. Esta vez Ña Librada, de setenta y "
                "cuatro años, se niega a irse, y cuando el agua ya le llega a las rodillas, su "
                "nieta Jazmín, de doce, tiene que sacarla en el bote de un vecino. En el refugio, "
                "Jazmín reparte su tiempo entre la escuela, una prueba para una academia de "
                "fútbol y su papel de intérprete de la abuela ante las asistentes sociales. "
                "Cuando por fin el agua baja, un proyecto municipal de costanera anuncia que "
                "nadie volverá. Hablada en guaraní y en jopara, la película observa con humor y "
                "ternura a una comunidad que aprendió a vivir con el río."
            ),
            "fr": (
                "Tous les trois ou quatre ans, le fleuve Paraguay monte et les familles du Bañado "
                "Sur déménagent, avec leurs lits, leurs poules et leurs saints, sous des tentes "
                "dressées sur un terrain militaire de la ville haute. Cette fois, Ña Librada, "
                "soixante-quatorze ans, refuse de partir, et quand l'eau lui arrive déjà aux "
                "genoux, sa petite-fille Jazmín, douze ans, doit l'évacuer dans la barque d'un "
                "voisin. Au camp, Jazmín jongle entre l'école, des essais pour une académie de "
                "football et son rôle d'interprète de sa grand-mère auprès des travailleuses "
                "sociales. Quand l'eau se retire enfin, un projet municipal d'aménagement des "
                "berges annonce que personne ne reviendra. Parlé en guarani et en jopara, le film "
                "observe avec humour et tendresse une communauté qui a appris à vivre avec le "
                "fleuve."
            ),
            "en": (
                "Every three or four years the Paraguay River rises and the families of the "
                "Bañado Sur move, with their beds, their chickens and their saints, into tents "
                "pitched on a military site in the upper city. This time Ña Librada, "
                "seventy-four, refuses to leave, and when the water is already up to her knees "
                "her twelve-year-old granddaughter Jazmín has to take her out in a neighbour's "
                "boat. In the camp, Jazmín juggles school, a trial for a football academy and her "
                "role as her grandmother's interpreter with the social workers. When the water "
                "finally recedes, a municipal riverfront project announces that nobody will be "
                "going back. Spoken in Guaraní and Jopara, the film observes with humour and "
                "tenderness a community that has learned to live with the river."
            ),
        },
        "needs": [
            {
                "category": "editing",
                "estimated_cost_minor": 600000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Two weeks of editing follow-up with a consultant editor.",
            },
            {
                "category": "colour_grading",
                "estimated_cost_minor": 1000000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Grade of handheld exteriors in changing river light.",
            },
            {
                "category": "sound_mix",
                "estimated_cost_minor": 1200000,
                "currency": "EUR",
                "secured_minor": 400000,
                "notes": "5.1 mix; partly covered by the German co-producer.",
            },
            {
                "category": "subtitling",
                "estimated_cost_minor": 200000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Guaraní transcription; Spanish, English and French subtitles.",
            },
        ],
    },
    {
        "key": "everybody-gets-off-in-marianao",
        "session": "sansebastian",
        "title": "Everybody Gets Off in Marianao",
        "original_title": "Todo el mundo se baja en Marianao",
        "directors": [
            "Ernesto Leyva Pardo",
        ],
        "countries": [
            "CU",
            "ES",
            "DO",
        ],
        "production_company": "Guagua Amarilla Producciones",
        "producer_org": "guagua-amarilla",
        "producers": [
            "yanelis-cabrera",
        ],
        "runtime_minutes": 96,
        "stage": "fine_cut",
        "genre": "comedy",
        "logline": {
            "es": (
                "El día en que prometió venderle su Chevrolet del 52 a un coleccionista español, "
                "un chofer de almendrón habanero hace un último viaje a Marianao con unos "
                "pasajeros que tienen, cada uno, un motivo para impedírselo."
            ),
            "fr": (
                "Le jour où il a promis de vendre sa Chevrolet de 1952 à un collectionneur "
                "espagnol, un chauffeur de taxi collectif de La Havane fait une dernière course "
                "jusqu'à Marianao avec des passagers qui ont chacun une raison de l'en empêcher."
            ),
            "en": (
                "On the day he has promised to sell his 1952 Chevrolet to a Spanish collector, a "
                "Havana shared-taxi driver makes one last run to Marianao with passengers who "
                "each have a reason to stop him."
            ),
        },
        "synopsis": {
            "es": (
                "Pancho Iglesias, de sesenta y siete años, lleva veintidós haciendo la misma ruta "
                "del Parque Central a Marianao en un Chevrolet que reconstruyó con piezas de "
                "otros cuatro carros. El dinero de la venta pagará el pasaje a Madrid de su nieta "
                "Daylín, y el coleccionista lo espera al final del recorrido con el efectivo. "
                "Pero entre roturas, apagones y un desvío al hospital, los pasajeros de su último "
                "viaje —un santero, una novia que llega tarde a su propia boda, un poeta al que "
                "nadie publica y un mecánico jubilado que jura haber armado el motor original— "
                "convierten el trayecto en una odisea por toda la ciudad. Una comedia coral "
                "agridulce sobre lo que se queda y lo que se va."
            ),
            "fr": (
                "Pancho Iglesias, soixante-sept ans, fait depuis vingt-deux ans le même trajet du "
                "Parque Central à Marianao au volant d'une Chevrolet qu'il a reconstruite avec "
                "les pièces de quatre autres voitures. L'argent de la vente paiera le billet "
                "d'avion pour Madrid de sa petite-fille Daylín, et le collectionneur l'attend au "
                "terminus avec l'argent liquide. Mais entre les pannes, les coupures de courant "
                "et un détour par l'hôpital, les passagers de sa dernière course — un santero, "
                "une mariée en retard à son propre mariage, un poète que personne ne publie et un "
                "mécanicien retraité qui jure avoir monté le moteur d'origine — transforment le "
                "trajet en odyssée à travers toute la ville. Une comédie chorale douce-amère sur "
                "ce qui reste et ce qui s'en va."
            ),
            "en": (
                "Pancho Iglesias, sixty-seven, has driven the same route from Parque Central to "
                "Marianao for twenty-two years in a Chevrolet he rebuilt with parts from four "
                "other cars. The money from the sale will pay for his granddaughter Daylín's "
                "flight to Madrid, and the collector is waiting at the end of the line with the "
                "cash. But between breakdowns, blackouts and a detour to the hospital, the "
                "passengers on his last run — a santero, a bride late for her own wedding, a poet "
                "nobody will publish and a retired mechanic who swears he assembled the original "
                "engine — turn the journey into an odyssey across the whole city. A bittersweet "
                "ensemble comedy about what stays and what leaves."
            ),
        },
        "needs": [
            {
                "category": "colour_grading",
                "estimated_cost_minor": 1200000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Grade of in-car scenes shot in daylight with mixed cameras.",
            },
            {
                "category": "sound_editing",
                "estimated_cost_minor": 700000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Dialogue clean-up of in-car scenes recorded in traffic.",
            },
            {
                "category": "sound_mix",
                "estimated_cost_minor": 1500000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "5.1 mix and stereo fold-down.",
            },
            {
                "category": "music",
                "estimated_cost_minor": 1000000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Rights to three son recordings from the 1950s plus an original score.",
            },
            {
                "category": "dcp_deliverables",
                "estimated_cost_minor": 350000,
                "currency": "EUR",
                "secured_minor": 350000,
                "notes": "Covered by the Spanish co-producer.",
            },
        ],
    },
    {
        "key": "last-week-on-air",
        "session": "sansebastian",
        "title": "Last Week on Air",
        "original_title": "La última semana al aire",
        "directors": [
            "Agustina Pereyra Lucena",
        ],
        "countries": [
            "AR",
            "FR",
        ],
        "production_company": "Coirón Cine",
        "producer_org": "coiron-cine",
        "producers": [
            "tomas-barrionuevo",
            "lucia-ferreyra",
        ],
        "runtime_minutes": 76,
        "stage": "rough_cut",
        "genre": "hybrid",
        "logline": {
            "es": (
                "A siete días de que venza su licencia, la radio comunitaria de un pueblo del "
                "norte de Córdoba decide transmitir sin parar hasta el último minuto."
            ),
            "fr": (
                "À sept jours de l'expiration de sa licence, la radio associative d'un village du "
                "nord de la province de Córdoba décide d'émettre sans interruption jusqu'à la "
                "dernière minute."
            ),
            "en": (
                "With seven days left before its licence expires, the community radio station of "
                "a small town in northern Córdoba decides to broadcast non-stop until the very "
                "last minute."
            ),
        },
        "synopsis": {
            "es": (
                "Desde hace veintiséis años, FM Los Algarrobos transmite desde la trastienda de "
                "una ferretería, en un pueblo de cuatro mil habitantes. Cuando la licencia se "
                "adjudica a un multimedio provincial, Chiqui Funes, su fundadora y maestra "
                "jubilada, decide hacer una maratón final: siete días y siete noches al aire, con "
                "todo el pueblo turnándose frente al micrófono. Interpretada por los propios "
                "vecinos junto a una única actriz profesional, la película mezcla escenas de "
                "ficción con los llamados, las canciones y las confesiones reales que llegaron "
                "durante el rodaje. El retrato de un pueblo que se habla a sí mismo, tal vez por "
                "última vez."
            ),
            "fr": (
                "Depuis vingt-six ans, FM Los Algarrobos émet de l'arrière-boutique d'une "
                "quincaillerie, dans un village de quatre mille habitants. Lorsque la licence est "
                "attribuée à un groupe de médias provincial, Chiqui Funes, sa fondatrice, "
                "institutrice à la retraite, décide d'organiser un marathon final : sept jours et "
                "sept nuits d'antenne, avec tout le village qui se relaie au micro. Interprété "
                "par les habitants eux-mêmes aux côtés d'une seule actrice professionnelle, le "
                "film mêle scènes de fiction et appels, chansons et confidences bien réels reçus "
                "pendant le tournage. Le portrait d'un village qui se parle à lui-même, peut-être "
                "pour la dernière fois."
            ),
            "en": (
                "For twenty-six years, FM Los Algarrobos has broadcast from the back room of a "
                "hardware shop in a town of four thousand people. When its licence is awarded to "
                "a provincial media group, Chiqui Funes, its founder and a retired schoolteacher, "
                "decides to hold a final marathon: seven days and seven nights on air, with the "
                "whole town taking turns at the microphone. Played by the townspeople themselves "
                "alongside a single professional actress, the film blends fiction scenes with the "
                "real calls, songs and confessions that came in during the shoot. A portrait of a "
                "town talking to itself, perhaps for the last time."
            ),
        },
        "needs": [
            {
                "category": "editing",
                "estimated_cost_minor": 1000000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Six weeks of editing to shape 140 hours of radio and on-set material.",
            },
            {
                "category": "sound_editing",
                "estimated_cost_minor": 700000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Restoration of live broadcast recordings and phone calls.",
            },
            {
                "category": "sound_mix",
                "estimated_cost_minor": 1100000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "5.1 mix.",
            },
            {
                "category": "colour_grading",
                "estimated_cost_minor": 900000,
                "currency": "EUR",
                "secured_minor": 300000,
                "notes": (
                    "Grade of mixed documentary and fiction footage; partly covered by the French "
                    "co-producer."
                ),
            },
        ],
    },
    {
        "key": "the-shadowless-days",
        "session": "sansebastian",
        "title": "The Shadowless Days",
        "original_title": "Los días sin sombra",
        "directors": [
            "Paula Andrade Cevallos",
        ],
        "countries": [
            "EC",
            "CO",
        ],
        "production_company": "Chaquiñán Films",
        "producer_org": "chaquinan-films",
        "producers": [
            "gabriela-proano",
        ],
        "runtime_minutes": 93,
        "stage": "in_post",
        "genre": "fantasy",
        "logline": {
            "es": (
                "En Quito, el día del equinoccio en que el mediodía no proyecta sombras, una "
                "chica de quince años pierde la suya para siempre y, con ella, poco a poco, su "
                "lugar en la memoria de quienes la quieren."
            ),
            "fr": (
                "À Quito, le jour d'équinoxe où midi ne projette aucune ombre, une adolescente de "
                "quinze ans perd la sienne pour de bon et, avec elle, peu à peu, sa place dans la "
                "mémoire de ceux qui l'aiment."
            ),
            "en": (
                "In Quito, on the equinox day when noon casts no shadows, a fifteen-year-old girl "
                "loses hers for good and, with it, little by little, her place in the memory of "
                "those who love her."
            ),
        },
        "synopsis": {
            "es": (
                "Dos veces al año, al mediodía del equinoccio, el sol se sitúa justo encima de "
                "Quito y ni las personas ni las cosas proyectan sombra. Cuando las sombras "
                "vuelven, la de Rocío no. Al principio nadie lo nota; después su madre pone la "
                "mesa para tres en lugar de cuatro y su mejor amiga se olvida de su cumpleaños. "
                "Con la ayuda de don Eusebio, el guardián nocturno del viejo observatorio "
                "astronómico, que vive sin sombra desde 1979, Rocío recorre la ciudad buscando la "
                "suya antes de que el equinoccio de septiembre cierre la puerta para siempre. Una "
                "fábula luminosa sobre la adolescencia, la invisibilidad y la ciudad de la mitad "
                "del mundo."
            ),
            "fr": (
                "Deux fois par an, à midi le jour de l'équinoxe, le soleil se trouve exactement "
                "au-dessus de Quito, et ni les gens ni les choses ne projettent d'ombre. Quand "
                "les ombres reviennent, celle de Rocío ne revient pas. D'abord, personne ne s'en "
                "aperçoit ; puis sa mère met la table pour trois au lieu de quatre, et sa "
                "meilleure amie oublie son anniversaire. Avec l'aide de don Eusebio, le gardien "
                "de nuit du vieil observatoire astronomique, qui vit sans ombre depuis 1979, "
                "Rocío parcourt la ville à la recherche de la sienne avant que l'équinoxe de "
                "septembre ne referme la porte pour toujours. Une fable lumineuse sur "
                "l'adolescence, l'invisibilité et la ville du milieu du monde."
            ),
            "en": (
                "Twice a year, at noon on the equinox, the sun stands directly above Quito and "
                "neither people nor things cast a shadow. When the shadows come back, Rocío's "
                "does not. At first nobody notices; then her mother sets the table for three "
                "instead of four, and her best friend forgets her birthday. With the help of Don "
                "Eusebio, the night watchman of the old astronomical observatory, who has lived "
                "without a shadow since 1979, Rocío searches the city for hers before the "
                "September equinox closes the door for good. A luminous fable about adolescence, "
                "invisibility and the city in the middle of the world."
            ),
        },
        "needs": [
            {
                "category": "vfx",
                "estimated_cost_minor": 3800000,
                "currency": "EUR",
                "secured_minor": 800000,
                "notes": "Shadow removal and replacement, roughly 120 shots.",
            },
            {
                "category": "colour_grading",
                "estimated_cost_minor": 1600000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Grade designed around the high-noon equatorial light.",
            },
            {
                "category": "sound_mix",
                "estimated_cost_minor": 1800000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "5.1 mix.",
            },
            {
                "category": "music",
                "estimated_cost_minor": 700000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "Original score for small ensemble and Andean winds.",
            },
            {
                "category": "subtitling",
                "estimated_cost_minor": 160000,
                "currency": "EUR",
                "secured_minor": 0,
                "notes": "English, French and German subtitles.",
            },
        ],
    },
]


def _check() -> list[str]:
    """Return the list of invariant violations (empty when the data is consistent)."""
    errors: list[str] = []
    session_keys = {s["key"] for s in SESSIONS}
    orgs = {o["key"]: o for o in ORGANISATIONS}
    people = {p["key"]: p for p in PEOPLE}

    def unique(label: str, values: list[str]) -> None:
        seen: set[str] = set()
        for value in values:
            if value in seen:
                errors.append(f"duplicate {label}: {value}")
            seen.add(value)

    unique("session key", [s["key"] for s in SESSIONS])
    unique("organisation key", [o["key"] for o in ORGANISATIONS])
    unique("organisation name", [o["name"] for o in ORGANISATIONS])
    unique("person key", [p["key"] for p in PEOPLE])
    unique("email", [p["email"].lower() for p in PEOPLE])
    unique("film key", [f["key"] for f in FILMS])
    unique("film title", [f["title"] for f in FILMS])

    if len(DEMO_PASSWORD) < 12:
        errors.append("DEMO_PASSWORD is shorter than 12 characters")
    if len(DEMO_TOTP_SECRET) % 8 or set(DEMO_TOTP_SECRET) - set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"):
        errors.append("DEMO_TOTP_SECRET is not unpadded base32")

    def valid_country(code: str) -> bool:
        return len(code) == 2 and code.isascii() and code.isupper()

    for o in ORGANISATIONS:
        if not valid_country(o["country"]):
            errors.append(f"organisation {o['key']}: bad country {o['country']!r}")

    for p in PEOPLE:
        if p["organisation"] not in orgs:
            errors.append(f"person {p['key']}: unknown organisation {p['organisation']}")
        domain = p["email"].rsplit("@", 1)[-1]
        if "@" not in p["email"] or not domain.endswith(".example") or not p["email"].isascii():
            errors.append(f"person {p['key']}: email {p['email']!r} must be ASCII on a .example domain")
    admins = [p for p in PEOPLE if p["role"] == "admin"]
    if not admins:
        errors.append("no admin")

    for a in ACCREDITATIONS:
        person = people.get(a["person"])
        if person is None:
            errors.append(f"accreditation: unknown person {a['person']}")
        elif person["role"] not in ("professional", "applicant"):
            errors.append(f"accreditation: {a['person']} is a {person['role']}, not a guest")
        if a["session"] not in session_keys:
            errors.append(f"accreditation: unknown session {a['session']}")
    unique("accreditation", [f"{a['person']}@{a['session']}" for a in ACCREDITATIONS])
    for p in PEOPLE:
        mine = [a for a in ACCREDITATIONS if a["person"] == p["key"]]
        if p["role"] == "professional" and not any(a["status"] == "approved" for a in mine):
            errors.append(f"professional {p['key']} has no approved accreditation")
        if p["role"] == "applicant" and not any(
            a["status"] == "pending" and a["session"] == "toulouse" for a in mine
        ):
            errors.append(f"applicant {p['key']} has no pending Toulouse accreditation")

    if len(FILMS) != 12:
        errors.append(f"expected 12 films, found {len(FILMS)}")
    for key in session_keys:
        count = sum(1 for f in FILMS if f["session"] == key)
        if count != 6:
            errors.append(f"session {key}: expected 6 films, found {count}")

    for f in FILMS:
        where = f"film {f['key']}"
        if f["session"] not in session_keys:
            errors.append(f"{where}: unknown session {f['session']}")
        org = orgs.get(f["producer_org"])
        if org is None:
            errors.append(f"{where}: unknown producer_org {f['producer_org']}")
        elif org["name"] != f["production_company"] or org["company_type"] != "production":
            errors.append(f"{where}: production_company does not match a production organisation")
        if not 1 <= len(f["producers"]) <= 2:
            errors.append(f"{where}: expected 1-2 producers")
        for person_key in f["producers"]:
            producer = people.get(person_key)
            if producer is None:
                errors.append(f"{where}: unknown producer {person_key}")
            elif producer["role"] != "producer" or producer["organisation"] != f["producer_org"]:
                errors.append(f"{where}: {person_key} is not a producer of {f['producer_org']}")
        if not f["directors"] or not f["countries"]:
            errors.append(f"{where}: directors and countries are required")
        for code in f["countries"]:
            if not valid_country(code):
                errors.append(f"{where}: bad country {code!r}")
        if not 70 <= f["runtime_minutes"] <= 130:
            errors.append(f"{where}: runtime out of range")
        for field, text in (("logline", f["logline"]), ("synopsis", f["synopsis"])):
            for lang, value in (
                ("es", text.get("es", "")),
                ("fr", text.get("fr", "")),
                ("en", text.get("en", "")),
            ):
                if not value.strip():
                    errors.append(f"{where}: {field} missing {lang}")
        if not 3 <= len(f["needs"]) <= 5:
            errors.append(f"{where}: expected 3-5 needs, found {len(f['needs'])}")
        unique(f"{where} need category", [n["category"] for n in f["needs"]])
        for n in f["needs"]:
            if not 0 <= n["secured_minor"] <= n["estimated_cost_minor"]:
                errors.append(f"{where}: {n['category']} secured amount out of range")
            if n["estimated_cost_minor"] <= 0 or not n["notes"].strip():
                errors.append(f"{where}: {n['category']} needs a positive cost and a note")
    for p in PEOPLE:
        if p["role"] == "producer" and not any(p["key"] in f["producers"] for f in FILMS):
            errors.append(f"producer {p['key']} is on no film team")
    return errors


def _summary() -> str:
    lines = [
        f"{EDITION['name']}: {len(SESSIONS)} sessions, {len(ORGANISATIONS)} organisations, "
        f"{len(PEOPLE)} people, {len(ACCREDITATIONS)} accreditations, {len(FILMS)} films"
    ]
    for session in SESSIONS:
        lines.append(
            f"\n{session['name']} ({session['venue']}, {session['starts_on']} to {session['ends_on']})"
        )
        for f in FILMS:
            if f["session"] != session["key"]:
                continue
            totals: dict[str, list[int]] = {}
            for n in f["needs"]:
                pair = totals.setdefault(n["currency"], [0, 0])
                pair[0] += n["estimated_cost_minor"]
                pair[1] += n["secured_minor"]
            gap = ", ".join(
                f"{cur} {est // 100:,} needed / {sec // 100:,} secured" for cur, (est, sec) in totals.items()
            )
            lines.append(
                f"  {f['title']} ({f['original_title']}) — {'/'.join(f['countries'])}, "
                f"{f['runtime_minutes']} min, {f['genre']}, {f['stage']}: {gap}"
            )
    roles: dict[str, int] = {}
    for p in PEOPLE:
        roles[p["role"]] = roles.get(p["role"], 0) + 1
    lines.append("\nPeople by role: " + ", ".join(f"{role} {count}" for role, count in sorted(roles.items())))
    return "\n".join(lines)


if __name__ == "__main__":
    problems = _check()
    if problems:
        raise SystemExit("demo data is inconsistent:\n" + "\n".join(f"  - {p}" for p in problems))
    print(_summary())
    print("\nAll invariants hold.")
