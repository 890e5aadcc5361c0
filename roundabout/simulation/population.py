"""Who trades: Kazakh traders (with BINs), customs brokers, and foreign counterparties.

A trader has a sector, a registration date (readable from its BIN, as in reality), an activity weight, a
product mix of a few HS6 items from its sector, and a preferred broker. Some honest traders pivot to
another sector's mix at some date (the honest look-alike of a mix shift). Counterparties are foreign firms
in per-country pools; a trader mostly deals with a few regular partners, sometimes with popular ones.
"""

from dataclasses import dataclass, fields
from datetime import date

import numpy as np

from roundabout.simulation import geo
from roundabout.simulation.goods import SECTORS, GoodsCatalog

#: Share of traders per sector.
SECTOR_SHARES = np.array([0.16, 0.07, 0.14, 0.12, 0.09, 0.10, 0.06, 0.12, 0.04, 0.10])
MIX_SIZE = 8
NO_DAY = np.iinfo(np.int32).max
_EPOCH = np.datetime64("1970-01-01", "D")


def day(d: date) -> int:
    """Days since 1970-01-01."""
    return int((np.datetime64(d, "D") - _EPOCH).astype(int))


@dataclass
class Traders:
    """Kazakh traders as parallel arrays. `mix2`/`sector2` apply from `pivot_day` on."""

    reg_day: np.ndarray
    sector: np.ndarray
    weight: np.ndarray
    mix: np.ndarray  # (n, MIX_SIZE) item indices
    mix_cum: np.ndarray  # (n, MIX_SIZE) cumulative weights
    sector2: np.ndarray
    mix2: np.ndarray
    mix2_cum: np.ndarray
    pivot_day: np.ndarray
    last_day: np.ndarray  # last day the trader is active (shells die young)
    broker: np.ndarray
    self_declare: np.ndarray
    name: np.ndarray  # object

    def __len__(self) -> int:
        return len(self.reg_day)

    def concat(self, other: "Traders") -> "Traders":
        """Both tables, this one first."""
        return Traders(
            **{f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)]) for f in fields(self)}
        )


_NAME_A = ("Asia", "Kaz", "Altyn", "Dala", "Nur", "Astana", "Alma", "Sary", "Beren", "Arlan", "Baiterek",
           "Tengri", "Ak", "Zhas", "Orda", "Kok", "Samal", "Aru", "Temir", "Saule", "Eurasia", "Silk", "Ulan",
           "Kazyna", "Zhetysu", "Irtysh", "Ertis", "Caspian", "Altai", "Arman", "Bereke",
           "Kemel")  # fmt: skip
_NAME_B = ("", "Pro", "Line", "Star", "Way", "Plus", "Bir", "Sun", "Tau", "Nova", "Max", "Gold", "City")
_SUFFIX = {
    "food": ("Food", "Trade", "Product", "Agro Trade"),
    "agriculture": ("Agro", "Grain", "Astyk", "Agroholding"),
    "construction": ("Stroy", "Build", "Construction", "Stroymaterial"),
    "auto_parts": ("Auto", "Motors", "Autoparts", "Avtotrade"),
    "electronics_retail": ("Electronics", "Tech", "Digital", "IT Distribution", "Technologies"),
    "machinery": ("Machinery", "Engineering", "Technic", "Industrial"),
    "chemicals": ("Chemical", "Pharm", "Himprom", "Medical"),
    "consumer_goods": ("Trade", "Import", "Market", "Group"),
    "metals": ("Metal", "Steel", "Resources", "Mining"),
    "logistics": ("Logistics", "Trans", "Cargo", "Express", "Transit"),
}


def trader_names(rng: np.random.Generator, sector: np.ndarray) -> np.ndarray:
    """Names like 'TOO "Altyn Star Electronics"' (TOO is the Kazakh LLP)."""
    a = rng.integers(0, len(_NAME_A), len(sector))
    b = rng.integers(0, len(_NAME_B), len(sector))
    pick = rng.random(len(sector))
    out = np.empty(len(sector), dtype=object)
    for i in range(len(sector)):  # per trader, not per line
        suffixes = _SUFFIX[SECTORS[sector[i]]]
        stem = _NAME_A[a[i]] + _NAME_B[b[i]]
        out[i] = f'TOO "{stem} {suffixes[int(pick[i] * len(suffixes))]}"'
    return out


def sector_items(cat: GoodsCatalog, sector: int) -> np.ndarray:
    """Items a sector's traders deal in; carriers move everything but bulk."""
    if SECTORS[sector] == "logistics":
        keep = cat.sectors[:, [2, 3, 4, 5, 7, 9]].any(axis=1) & (cat.mode_class < 3)
        return np.flatnonzero(keep)
    return np.flatnonzero(cat.sectors[:, sector])


def product_mix(
    rng: np.random.Generator, cat: GoodsCatalog, sector: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """MIX_SIZE items per trader from its sector, with Dirichlet weights (a few items dominate)."""
    n = len(sector)
    items = np.zeros((n, MIX_SIZE), dtype=np.int64)
    for s in np.unique(sector):
        rows = np.flatnonzero(sector == s)
        pool = sector_items(cat, int(s))
        order = np.argsort(rng.random((len(rows), len(pool))), axis=1)[:, :MIX_SIZE]
        order = order % len(pool)  # pools smaller than MIX_SIZE repeat items
        items[rows] = pool[order]
    w = rng.gamma(0.7, size=(n, MIX_SIZE))
    cum = np.cumsum(w, axis=1)
    return items, cum / cum[:, -1:]


def make_traders(
    rng: np.random.Generator,
    cat: GoodsCatalog,
    reg_day: np.ndarray,
    sector: np.ndarray,
    n_brokers: int,
    pivot_day: np.ndarray | None = None,
    last_day: np.ndarray | None = None,
) -> Traders:
    """Traders with the given registration days and sectors; everything else drawn here."""
    n = len(reg_day)
    mix, mix_cum = product_mix(rng, cat, sector)
    pivot = np.full(n, NO_DAY, dtype=np.int64) if pivot_day is None else pivot_day
    pivoting = pivot < NO_DAY
    # honest pivots go mostly to electronics (the look-alike of a shift to CHPL goods)
    targets = np.array([4, 4, 4, 4, 5, 5, 7, 3])
    sector2 = np.where(pivoting, targets[rng.integers(0, len(targets), n)], sector)
    sector2 = np.where(pivoting & (sector2 == sector), 4, sector2)
    mix2, mix2_cum = product_mix(rng, cat, sector2)
    mix2 = np.where(pivoting[:, None], mix2, mix)
    mix2_cum = np.where(pivoting[:, None], mix2_cum, mix_cum)
    weight = rng.lognormal(0.0, 1.1, n) * np.where(sector == 9, 1.6, 1.0)
    broker = np.minimum((rng.pareto(1.2, n) * n_brokers / 6).astype(np.int64), n_brokers - 1)
    return Traders(
        reg_day=reg_day.astype(np.int64),
        sector=sector.astype(np.int64),
        weight=weight,
        mix=mix,
        mix_cum=mix_cum,
        sector2=sector2.astype(np.int64),
        mix2=mix2,
        mix2_cum=mix2_cum,
        pivot_day=pivot,
        last_day=np.full(n, NO_DAY, dtype=np.int64) if last_day is None else last_day.astype(np.int64),
        broker=broker,
        self_declare=rng.random(n) < 0.12,
        name=trader_names(rng, sector),
    )


def honest_traders(
    rng: np.random.Generator,
    cat: GoodsCatalog,
    n: int,
    start: int,
    end: int,
    new_share: float,
    pivot_share: float,
    n_brokers: int,
) -> Traders:
    """The honest population: registration dates over three decades, some companies new during the world."""
    sector = rng.choice(len(SECTORS), size=n, p=SECTOR_SHARES / SECTOR_SHARES.sum())
    era = rng.choice(4, size=n, p=[0.22, 0.38, 0.40 - new_share, new_share])
    lo = np.array([day(date(1995, 3, 1)), day(date(2006, 1, 1)), day(date(2016, 1, 1)), start])
    hi = np.array([day(date(2006, 1, 1)), day(date(2016, 1, 1)), start, end - 60])
    reg = (lo[era] + rng.random(n) * (hi[era] - lo[era])).astype(np.int64)
    pivot = np.full(n, NO_DAY, dtype=np.int64)
    pivots = (rng.random(n) < pivot_share) & (reg < start - 365) & (sector != 4)
    pivot[pivots] = start + 180 + (rng.random(pivots.sum()) * (end - start - 360)).astype(np.int64)
    return make_traders(rng, cat, reg, sector, n_brokers, pivot_day=pivot)


# ---------------------------------------------------------------------------------------------------------
# BINs


_W1 = np.arange(1, 12)
_W2 = np.array([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2])


def bin_check_digit(digits: np.ndarray) -> np.ndarray:
    """The official BIN/IIN check digit of rows of 11 digits; 10 means the serial is unusable."""
    c = (digits @ _W1) % 11
    c2 = (digits @ _W2) % 11
    return np.where(c == 10, c2, c)


def make_bins(rng: np.random.Generator, reg_day: np.ndarray) -> np.ndarray:
    """Unique 12-digit BINs: YYMM of registration, 4 (resident legal entity), 0 (head office), a 5-digit
    serial and the check digit. Serials are redrawn until the check digit is valid and every BIN unique."""
    n = len(reg_day)
    months = reg_day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)  # months since 1970
    yy, mm = (1970 + months // 12) % 100, months % 12 + 1
    digits = np.zeros((n, 11), dtype=np.int64)
    digits[:, 0], digits[:, 1], digits[:, 2], digits[:, 3] = yy // 10, yy % 10, mm // 10, mm % 10
    digits[:, 4], digits[:, 5] = 4, 0
    todo = np.ones(n, dtype=bool)
    out = np.zeros(n, dtype=np.int64)
    while todo.any():
        digits[todo, 6:] = rng.integers(0, 10, (todo.sum(), 5))
        check = bin_check_digit(digits)
        number = digits @ (10 ** np.arange(11, 0, -1)) + check
        out = np.where(todo, number, out)
        bad = check == 10
        _, first = np.unique(out, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        todo = bad | dup
    return np.char.zfill(out.astype(str), 12).astype(object)


# ---------------------------------------------------------------------------------------------------------
# Counterparties and brokers


_CP_WORDS = ("Star", "Union", "Global", "Pacific", "Prime", "Delta", "Orient", "Nova", "Vector", "Summit",
             "Crown", "Bridge", "Alpha", "Apex", "Unity", "Golden", "Silver", "Blue", "Green",
             "Royal")  # fmt: skip
_CP_KIND = ("Electronics", "Trading", "Technology", "Industrial", "Machinery", "Foods", "Import Export",
            "Logistics", "Components", "Supply", "Materials", "Auto Parts")  # fmt: skip
_CN_CITY = ("Shenzhen", "Guangzhou", "Yiwu", "Urumqi", "Shanghai", "Ningbo", "Xiamen", "Hangzhou", "Tianjin")
_RU_WORDS = ("Tekh", "Prom", "Snab", "Torg", "Avto", "Elektro", "Stroy", "Agro", "Metall", "Komplekt",
             "Servis", "Resurs", "Region", "Sibir", "Ural", "Volga", "Impuls", "Signal", "Radio",
             "Mikro")  # fmt: skip
_DE_NAMES = ("Müller", "Schmidt", "Weber", "Becker", "Hoffmann", "Krüger", "Wagner", "Braun", "Richter")
_FORM = {"US": "Inc.", "CA": "Inc.", "GB": "Ltd", "DE": "GmbH", "AT": "GmbH", "CH": "AG", "IT": "S.r.l.",
         "FR": "SAS", "ES": "S.L.", "NL": "B.V.", "BE": "BV", "PL": "Sp. z o.o.", "LT": "UAB", "CZ": "s.r.o.",
         "SE": "AB", "FI": "Oy", "JP": "K.K.", "KR": "Co., Ltd", "TR": "Ltd. Şti.", "AE": "FZE",
         "UZ": "MChJ", "KG": "OsOO", "AM": "LLC", "TJ": "LLC"}  # fmt: skip


def _cp_name(rng: np.random.Generator, country: str) -> str:
    w = _CP_WORDS[rng.integers(len(_CP_WORDS))]
    k = _CP_KIND[rng.integers(len(_CP_KIND))]
    if country in ("CN", "HK", "TW"):
        city = "Hong Kong" if country == "HK" else _CN_CITY[rng.integers(len(_CN_CITY))]
        return f"{city} {w} {k} Co., Ltd"
    if country in ("RU", "BY"):
        a, b = rng.integers(0, len(_RU_WORDS), 2)
        return f'{"OOO" if country == "RU" else "ChTUP"} "{_RU_WORDS[a]}{_RU_WORDS[b].lower()}"'
    if country in ("DE", "AT", "CH"):
        return f"{_DE_NAMES[rng.integers(len(_DE_NAMES))]} {k} {_FORM[country]}"
    return f"{w} {k} {_FORM.get(country, 'Ltd')}"


#: How many counterparties a country has per 1,000 traders (the rest get a floor of 6).
_CP_DENSITY = {"RU": 120, "CN": 120, "BY": 20, "KG": 25, "UZ": 25, "TR": 30, "DE": 30, "KR": 15, "JP": 10,
               "US": 15, "IT": 12, "AE": 10, "HK": 10, "TW": 8, "PL": 8, "AM": 8}  # fmt: skip


@dataclass
class Counterparties:
    """Foreign firms: flat arrays of names and countries, with each country's pool start and size."""

    name: np.ndarray
    country: np.ndarray
    start: np.ndarray  # by country index
    size: np.ndarray  # by country index

    def pick(self, rng: np.random.Generator, trader: np.ndarray, country: np.ndarray) -> np.ndarray:
        """A counterparty in `country` for each trader: mostly one of three regular partners."""
        size = self.size[country]
        slot = rng.integers(0, 3, len(trader))
        regular = (trader * 2654435761 + slot * 97 + country * 31) % (2**31) % size
        popular = np.minimum(rng.zipf(1.6, len(trader)) - 1, size - 1)
        local = np.where(rng.random(len(trader)) < 0.75, regular, popular)
        return self.start[country] + local

    def add(self, names: list[str], country: int) -> np.ndarray:
        """Append firms (outside the country pools, so only their creator uses them); their indices."""
        first = len(self.name)
        self.name = np.concatenate([self.name, np.array(names, dtype=object)])
        self.country = np.concatenate([self.country, np.full(len(names), country)])
        return np.arange(first, len(self.name))


def make_counterparties(rng: np.random.Generator, n_traders: int) -> Counterparties:
    """Per-country pools sized by how much Kazakhstan trades with each country."""
    names: list[str] = []
    country: list[int] = []
    start = np.zeros(len(geo.COUNTRIES), dtype=np.int64)
    size = np.zeros(len(geo.COUNTRIES), dtype=np.int64)
    for c, code in enumerate(geo.COUNTRIES):
        k = max(6, n_traders * _CP_DENSITY.get(code, 3) // 1000)
        start[c], size[c] = len(names), k
        names += [_cp_name(rng, code) for _ in range(k)]
        country += [c] * k
    return Counterparties(np.array(names, dtype=object), np.array(country), start, size)


def scheme_counterparties(rng: np.random.Generator, cps: Counterparties, country: str, n: int) -> np.ndarray:
    """New firms in one country used only by the schemes (fronts shared by many complicit traders)."""
    return cps.add([_cp_name(rng, country) for _ in range(n)], geo.C[country])


def broker_reg_days(rng: np.random.Generator, n: int) -> np.ndarray:
    """Registration days of customs brokers (established firms)."""
    lo, hi = day(date(2000, 1, 1)), day(date(2016, 1, 1))
    return (lo + rng.random(n) * (hi - lo)).astype(np.int64)
