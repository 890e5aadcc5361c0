"""The simulated world's sanctions list: fictional Russian end users and third-country procurement fronts.

Imitates how OFAC SDN entries (EO 14024 designations) and EU Council listings of Russian military
procurement networks read: a Russian entity's Cyrillic name with its legal form (ООО, АО, НПО, ...) and
a.k.a. aliases in more than one romanisation and in English translation; and intermediaries registered in
the transshipment points named by the FinCEN & BIS joint alert FIN-2022-Alert003 (June 2022) and its
supplement FIN-2023-Alert004 (May 2023): the UAE, China and Hong Kong, Türkiye, Armenia, Kazakhstan,
Kyrgyzstan, Serbia, Uzbekistan. Names are invented combinations of stems, not real listed companies.
"""

from dataclasses import replace
from datetime import date, timedelta

import numpy as np

from roundabout.parties.entries import ListEntry
from roundabout.simulation.parties.lexicon import (
    FORMS,
    FORMS_BY_COUNTRY,
    norm,
    pick,
    romanise,
    split_legal_form,
)

PROGRAMMES = ("RUSSIA-EO14024", "RUSSIA-EO14071", "BELARUS-EO14038", "UKRAINE-EO13662")

RU_STEMS = ("Север", "Кедр", "Ладога", "Енисей", "Юпитер", "Ярус", "Хорда", "Цефей", "Жемчуг", "Чайка",
            "Бриз", "Волна", "Крона", "Циклон", "Эфир", "Юнона", "Ракита", "Обзор", "Тарвел", "Ирмет",
            "Кальвер", "Стрежень", "Перевал", "Ковчег", "Зодиак", "Дозор", "Талвир", "Вереск", "Ясень",
            "Щегол", "Ильмень", "Селигер", "Онега", "Ветлуга", "Шексна", "Мещера", "Вятка", "Пинега",
            "Юрюзань", "Ельня", "Ровента", "Гелион", "Стелар", "Зарница", "Хвоя", "Чусовая", "Свияга",
            "Кама", "Ирбит", "Сосьва")  # fmt: skip
#: Line-of-business words, with the English a translation alias uses ("" where none is natural).
RU_FIELDS = (("Электроника", "Electronics"), ("Микросистемы", "Microsystems"), ("Приборы", "Instruments"),
             ("Технологии", "Technologies"), ("Комплект", ""), ("Авионика", "Avionics"), ("Оптика", "Optics"),
             ("Инжиниринг", "Engineering"), ("Компоненты", "Components"), ("Системы", "Systems"),
             ("Снабжение", "Supply"), ("Поставка", "Supply"), ("Машиностроение", "Machinery"),
             ("Радиотехника", "Radio Engineering"), ("Телеком", "Telecom"), ("Навигация", "Navigation"),
             ("Спецтехника", "Special Equipment"), ("Автоматика", "Automation"), ("Механика", ""),
             ("Микроэлектроника", "Microelectronics"), ("Комплектация", ""), ("Элемент", ""),
             ("Аналитика", ""), ("Точприбор", ""))  # fmt: skip
RU_MODIFIERS = (("Плюс", "Plus"), ("Про", "Pro"), ("М", ""), ("Тех", "Tech"), ("Групп", "Group"),
                ("Сервис", "Service"), ("Трейд", "Trade"), ("Инвест", "Invest"), ("Лаб", "Lab"),
                ("Центр", "Centre"))  # fmt: skip
RU_FUSED = ("прибор", "тех", "снаб", "маш", "комплект", "пром")
_RU_FORM_WEIGHTS = (("ooo", 0.5), ("ao", 0.2), ("pao", 0.05), ("zao", 0.1), ("npo", 0.15))

EN_STEMS = ("Silk", "Falcon", "Amber", "Coral", "Onyx", "Polar", "Sable", "Talon", "Vertex", "Zephyr",
            "Azure", "Crescent", "Lotus", "Nimbus", "Saffron", "Topaz", "Beacon", "Orion", "Cobalt",
            "Indigo", "Jasper", "Kestrel", "Lynx", "Marlin", "Opal", "Pegasus", "Quasar", "Raven", "Sirius",
            "Tundra", "Vega", "Wolfram", "Xenon", "Yarrow", "Zenon", "Argent")  # fmt: skip
EN_SECONDS = ("", "", "", "Way", "Bridge", "Gate", "Link", "Point", "Crest", "Route", "Arc", "Trail")
EN_SECTORS = ("Trade", "Trading", "Components", "Electronics", "Technology", "Supply", "Systems",
              "Global", "Engineering", "Industrial", "Parts", "Global Trading")  # fmt: skip
PY_FIRST = ("Jin", "Rui", "Tai", "Heng", "Long", "Kai", "Bo", "Chuang", "Sheng", "Wei", "Xun", "Hao")
PY_SECOND = ("tong", "xin", "da", "feng", "yuan", "hua", "an", "cheng", "de", "fa", "li", "kang")
CN_CITIES = ("Shenzhen", "Guangzhou", "Dongguan", "Ningbo", "Xiamen", "Yiwu")
#: Per-country stems and business words of the intermediaries.
LOCAL_STEMS = {
    "TR": ("Kartal", "Toros", "Poyraz", "Doruk", "Yıldız", "Kuzey", "Ilgaz", "Meltem", "Tuna", "Sarp"),
    "KZ": ("Каспий", "Жайык", "Тобол", "Есиль", "Балхаш", "Торгай", "Улытау", "Шалкар", "Баян", "Кендирли"),
    "KG": ("Нарын", "Талас", "Сусамыр", "Кочкор", "Арпа", "Чаткал", "Кемин", "Тюп"),
    "AM": ("Arax", "Debed", "Vorotan", "Hrazdan", "Akhuryan", "Kasakh", "Marmarik", "Getik", "Azat"),
    "RS": ("Sava", "Morava", "Tisa", "Drina", "Ibar", "Timok", "Kolubara", "Mlava", "Toplica", "Pek"),
    "UZ": ("Zarafshon", "Chirchiq", "Navbahor", "Oqtosh", "Ohangaron", "Kosonsoy", "Qorasu", "Yangiyer"),
    "DE": ("Elbtal", "Rheinau", "Moselberg", "Spreetal", "Lahnfeld", "Saalheim", "Werrabach", "Ilmgrund"),
}
LOCAL_WORDS = {
    "TR": ("Elektronik", "Makine", "Teknoloji", "Otomasyon", "Elektronik Dış Ticaret", "Dış Ticaret"),
    "KZ": ("Тех", "Снаб", "Комплект", "Импорт", "Трейд", "Электроникс", "Инжиниринг"),
    "RS": ("Elektro", "Tehnika", "Komerc", "Trade", "Electronics"),
    "UZ": ("Tex", "Savdo", "Elektron", "Trade", "Technology"),
    "DE": ("Technik", "Elektronik", "Handels", "Industrietechnik"),
}
LOCAL_WORDS["KG"] = LOCAL_WORDS["KZ"]
_THIRD_WEIGHTS = (("AE", 0.2), ("HK", 0.16), ("CN", 0.12), ("TR", 0.12), ("KZ", 0.1), ("KG", 0.06),
                  ("AM", 0.08), ("RS", 0.06), ("UZ", 0.06), ("DE", 0.04))  # fmt: skip
_CITIES = {
    "RU": ("Moscow", "Saint Petersburg", "Zelenograd", "Yekaterinburg", "Novosibirsk", "Kazan", "Tomsk"),
    "AE": ("Dubai", "Sharjah", "Ajman", "Ras Al Khaimah"), "HK": ("Kowloon", "Wan Chai", "Kwun Tong"),
    "CN": ("Shenzhen", "Guangzhou", "Dongguan", "Ningbo"), "TR": ("Istanbul", "Ankara", "Izmir", "Mersin"),
    "KZ": ("Almaty", "Astana", "Shymkent"), "KG": ("Bishkek", "Osh"), "AM": ("Yerevan", "Gyumri"),
    "RS": ("Belgrade", "Novi Sad"), "UZ": ("Tashkent", "Samarkand"), "DE": ("Hamburg", "Berlin"),
}  # fmt: skip
COUNTRY_NAMES = {"RU": "Russia", "AE": "United Arab Emirates", "HK": "Hong Kong", "CN": "China",
                 "TR": "Türkiye", "KZ": "Kazakhstan", "KG": "Kyrgyzstan", "AM": "Armenia", "RS": "Serbia",
                 "UZ": "Uzbekistan", "DE": "Germany"}  # fmt: skip
_STREETS = ("Zavodskaya", "Promyshlennaya", "Sadovaya", "Lesnaya", "Tsentralnaya", "Naberezhnaya")

# Names of unlisted firms, for the variants: honest stems and words no listed name uses, and what
# fronts add to a listed name.
HONEST_FIRST = ("Maple", "Willow", "Birch", "Harbor", "Summit", "Ever", "River", "Sun", "Gold", "Oak", "Lake",
                "Red", "Clear", "Fair", "High", "Green", "Blue", "Pine", "Bay", "West")  # fmt: skip
HONEST_SECOND = ("wood", "field", "brook", "ridge", "vale", "ford", "stone", "haven", "mont", "side", "view")
HONEST_PINYIN = (("Mei", "Lan", "Qing", "Yu", "Zhi", "Hui", "Jia", "Shun", "Fu", "Ming"),
                 ("hong", "sen", "bao", "yang", "lin", "guang", "rong", "ping"))  # fmt: skip
#: Business words no listed name uses: what an honest namesake does instead.
NEAR_CYRILLIC = ("Логистик", "Агро", "Строй", "Мебель", "Торг", "Авто", "Хлеб", "Текстиль", "Фарм",
                 "Полиграф", "Молоко", "Керамика")  # fmt: skip
NEAR_LATIN = ("Textile", "Dairy", "Furniture", "Garden", "Bakery", "Ceramic", "Printing", "Foods", "Travel",
              "Tekstil", "Gıda", "Mobilya")  # fmt: skip
UNRELATED_WORDS = ("Dairy", "Furniture", "Textile", "Bakery", "Printing", "Foods", "Agro", "Ceramics",
                   "Florist", "Tourism", "Apparel", "Cosmetics")  # fmt: skip
FRONT_WORDS = ("Trading", "General Trading", "Group", "International", "Global", "Technology", "Supply",
               "Logistics", "Import Export")  # fmt: skip
FRONT_PLACES = ("Dubai", "HK", "Asia", "Eurasia", "Istanbul", "Almaty")
FRONT_FORMS = ("FZE", "FZCO", "Ltd", "Limited", "LLC", "GmbH", "TOO", "A.Ş.", "DOO", "Co., Ltd.")


def _weighted(rng: np.random.Generator, pairs: tuple[tuple[str, float], ...]) -> str:
    return pairs[int(rng.choice(len(pairs), p=np.array([w for _, w in pairs]) / sum(w for _, w in pairs)))][0]


def _russian_core(rng: np.random.Generator) -> tuple[str, str]:
    """A Cyrillic core name and its English translation ("" when a word has none)."""
    stem = pick(rng, RU_STEMS)
    (field, field_en), (mod, mod_en) = pick(rng, RU_FIELDS), pick(rng, RU_MODIFIERS)
    stem_en, u = romanise(stem), rng.random()
    if u < 0.35:
        return f"{stem} {field}", _english(stem_en, field_en)
    if u < 0.5:
        return f"{field} {mod}", _english(field_en, mod_en)
    if u < 0.65:
        return f"{stem} {field} {mod}", _english(stem_en, field_en, mod_en)
    if u < 0.85:
        fused = stem.rstrip("ь") + pick(rng, RU_FUSED)
        return (f"{fused}-{mod}" if rng.random() < 0.3 else fused), ""
    return f"{stem}{pick(rng, ('-', ' '))}{mod}", _english(stem_en, mod_en)


def _english(*words: str) -> str:
    """The words joined, or "" when one of them has no English."""
    return " ".join(words) if all(words) else ""


def _quoted(form: str, core: str, rng: np.random.Generator) -> str:
    return f"{form} " + pick(rng, ("«{}»", "«{}»", "«{}»", '"{}"', "{}")).format(core)


def _russian(rng: np.random.Generator) -> tuple[str, list[str]]:
    """Primary Cyrillic name and 1-4 Latin aliases: BGN/PCGN, a second romanisation, English."""
    core, english = _russian_core(rng)
    form = _weighted(rng, _RU_FORM_WEIGHTS)
    cyr, lat = FORMS[form]
    bgn = romanise(core, "bgn")
    others = [s for s in ("icao", "informal") if romanise(core, s) != bgn]
    second = romanise(core, pick(rng, others)) if others else bgn
    long_first = len(lat[1].split()) > 1
    candidates = [f"{lat[0]} {bgn}", pick(rng, (f"{second}, {lat[1]}", f"{second} {lat[0]}"))]
    if english:
        candidates.append(f"{lat[1]} {english}" if long_first else f"{english} {lat[1]}")
    candidates.append(pick(rng, (f'{lat[2] if len(lat) > 2 else lat[1]} "{bgn}"', f"{lat[0]} {bgn}".upper())))
    return _quoted(cyr[0], core, rng), candidates[: int(rng.integers(1, 5))]


def _latin_third(rng: np.random.Generator, country: str) -> tuple[str, str, str]:
    """(core, legal form key, alternative core) of an intermediary written in Latin script."""
    form = pick(rng, FORMS_BY_COUNTRY[country])
    if country == "CN":
        city, brand = pick(rng, CN_CITIES), pick(rng, PY_FIRST) + pick(rng, PY_SECOND)
        sector = pick(rng, EN_SECTORS[:9])
        return f"{city} {brand} {sector}", form, f"{brand} {sector} ({city})"
    if country in ("AE", "HK", "AM"):
        stem = pick(rng, EN_STEMS) if country != "AM" else pick(rng, LOCAL_STEMS["AM"])
        second = pick(rng, EN_SECONDS)
        sector = "General Trading" if form == "llc" and rng.random() < 0.5 else pick(rng, EN_SECTORS)
        core = f"{stem} {second} {sector}" if second else f"{stem} {sector}"
        return core, form, (f"{stem}{second.lower()} {sector}" if second else core)
    core = f"{pick(rng, LOCAL_STEMS[country])} {pick(rng, LOCAL_WORDS[country])}"
    return core, form, core


def _third(rng: np.random.Generator, country: str) -> tuple[str, list[str]]:
    """Primary name and 0-2 aliases of an intermediary."""
    if country in ("KZ", "KG"):
        core = f"{pick(rng, LOCAL_STEMS[country])} {pick(rng, LOCAL_WORDS[country])}"
        cyr, lat = FORMS[FORMS_BY_COUNTRY[country][0]]
        aliases = [
            f"{romanise(core, 'bgn')} {lat[0]}",
            f"{romanise(core, pick(rng, ('icao', 'informal')))} {lat[1]}",
        ]
        return _quoted(cyr[0], core, rng), aliases[: int(rng.integers(1, 3))]
    core, form, alt = _latin_third(rng, country)
    lat = FORMS[form][1]
    aliases = [f"{alt} {pick(rng, lat[1:])}", f"{core} {lat[1]}"]
    return f"{core} {lat[0]}", aliases[: int(rng.integers(0, 3))]


def _addresses(rng: np.random.Generator, country: str) -> tuple[str, ...]:
    out = []
    for _ in range(1 + int(rng.random() < 0.3)):
        city, n = pick(rng, _CITIES[country]), int(rng.integers(1, 140))
        if country in ("RU", "KZ", "KG"):
            out.append(f"d. {n}, ul. {pick(rng, _STREETS)}, {city}, {COUNTRY_NAMES[country]}")
        else:
            out.append(
                f"Office {int(rng.integers(101, 3000))}, Building {n}, {city}, {COUNTRY_NAMES[country]}"
            )
    return tuple(dict.fromkeys(out))


def _programmes(rng: np.random.Generator, russian: bool) -> tuple[str, ...]:
    u = rng.random()
    if not russian:
        return ("RUSSIA-EO14024", "BELARUS-EO14038") if u < 0.05 else ("RUSSIA-EO14024",)
    if u < 0.78:
        return ("RUSSIA-EO14024",)
    if u < 0.88:
        return ("RUSSIA-EO14024", "RUSSIA-EO14071")
    return ("UKRAINE-EO13662", "RUSSIA-EO14024") if u < 0.95 else ("BELARUS-EO14038", "RUSSIA-EO14024")


def make_listed_entities(
    rng: np.random.Generator, n_russian: int, n_third: int, start: date, end: date
) -> list[ListEntry]:
    """A sanctions list as the simulated world publishes it, ordered by listing date.

    Designations come in waves (as OFAC's do); intermediaries are listed more often in later waves, as
    enforcement turned to third-country suppliers. Names are distinct in their core (legal form aside).
    """
    if end < start:
        raise ValueError("end is before start")
    total = n_russian + n_third
    wave_days = np.sort(rng.integers(0, (end - start).days + 1, max(1, min(24, total // 15))))
    late = np.linspace(1.0, 3.0, len(wave_days))
    seen: set[str] = set()
    rows: list[tuple[date, int, ListEntry]] = []
    for i in range(total):
        russian = i < n_russian
        for _ in range(1000):
            country = "RU" if russian else _weighted(rng, _THIRD_WEIGHTS)
            name, aliases = _russian(rng) if russian else _third(rng, country)
            key = norm(split_legal_form(name, (country,)).core)
            if key not in seen:
                break
        else:
            raise ValueError(f"cannot draw {total} distinct names from the stems")
        seen.add(key)
        wave = int(rng.choice(len(wave_days), p=None if russian else late / late.sum()))
        listed = start + timedelta(days=int(wave_days[wave]))
        by_norm = {norm(a): a for a in reversed(aliases)}  # the first spelling of each
        aliases = [a for a in aliases if by_norm.get(norm(a)) == a and norm(a) != norm(name)]
        entry = ListEntry(
            entry_id="",
            name=name,
            aliases=tuple(aliases),
            programmes=_programmes(rng, russian),
            countries=(country,),
            addresses=_addresses(rng, country),
            listed_on=listed,
        )
        rows.append((listed, i, entry))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [replace(e, entry_id=f"SIM-{k + 1:06d}") for k, (_, _, e) in enumerate(rows)]
