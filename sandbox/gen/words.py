"""Word pools for names, company names and domains (plain ASCII plus a few real-world oddities)."""

from __future__ import annotations

__all__ = ["COMPANY_SUFFIXES", "COMPANY_WORDS", "FIRST_NAMES", "FREE_EMAIL", "LAST_NAMES", "TLDS"]

FIRST_NAMES = (
    "Ana", "Ben", "Carla", "David", "Elena", "Felix", "Greta", "Hugo", "Ines", "Jon", "Karin",
    "Luis", "Marta", "Nico", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tina", "Uwe", "Vera",
    "Willem", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Chloé", "Dmitri", "Emma", "Farid",
)
LAST_NAMES = (
    "García", "Smith", "Müller", "Rossi", "Dubois", "Kowalski", "Jensen", "Silva", "Novak",
    "Fernández", "Brown", "Schmidt", "Costa", "Martin", "Nowak", "Larsen", "Santos", "Horvat",
    "López", "Taylor", "Weber", "Ricci", "Moreau", "Lewandowski", "Olsen", "Pereira", "Kovač",
)
COMPANY_WORDS = (
    "acme", "blue", "cedar", "delta", "ember", "fjord", "granite", "harbor", "iris", "juniper",
    "kite", "lumen", "maple", "nova", "orbit", "pixel", "quartz", "river", "summit", "tundra",
    "umbra", "vertex", "willow", "xenon", "yarrow", "zenith", "atlas", "beacon", "comet", "dune",
)
COMPANY_SUFFIXES = ("labs", "works", "group", "digital", "systems", "media", "studio", "tech")
TLDS = ("com", "com", "com", "io", "de", "es", "co.uk", "fr", "net", "com.br", "nl", "it")
# A few of the program's free e-mail domains (config/program_terms.toml), used for contacts.
FREE_EMAIL = ("gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "gmx.de", "icloud.com")
