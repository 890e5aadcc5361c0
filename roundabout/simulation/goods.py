"""The goods catalogue: HS6 codes over many chapters, their 10-digit national codes, descriptions and prices.

Every CHPL code is in it (so honest trade has CHPL goods too), beside ordinary goods from food to steel.
Each HS6 has a log-normal unit value (USD per piece for goods with a supplementary unit, per kg otherwise)
whose median shifts by origin (coalition goods dearer, Chinese cheaper), a typical mass per piece, a
typical quantity per line, the origins it comes from, the transport it travels by, and the sectors whose
traders deal in it. Numbers are plausible orders of magnitude, not statistics.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np

from roundabout.reference import chpl_table
from roundabout.reference.chpl import TIER_RANK
from roundabout.simulation import geo

#: Sectors of Kazakh traders.
SECTORS: tuple[str, ...] = (
    "food", "agriculture", "construction", "auto_parts", "electronics_retail", "machinery",
    "chemicals", "consumer_goods", "metals", "logistics",
)  # fmt: skip
SECTOR_CODES = {"F": 0, "A": 1, "C": 2, "P": 3, "E": 4, "M": 5, "H": 6, "G": 7, "S": 8, "L": 9}

ORIGIN_PROFILES: dict[str, dict[str, float]] = {
    "ELEC": {"CN": 30, "TW": 10, "MY": 7, "KR": 7, "JP": 6, "US": 8, "DE": 5, "VN": 4, "SG": 3, "PH": 2,
             "TH": 2, "NL": 2, "GB": 2, "CH": 1, "HK": 3, "IL": 1, "RU": 2, "FR": 1, "IT": 1},
    "MACH": {"CN": 30, "DE": 14, "IT": 7, "JP": 5, "KR": 5, "US": 5, "TR": 5, "RU": 8, "CZ": 3, "AT": 2,
             "CH": 2, "FR": 2, "FI": 1, "SE": 2, "PL": 2, "BY": 3, "IN": 2, "GB": 1, "TW": 2},
    "FOOD": {"RU": 22, "UZ": 8, "CN": 6, "TR": 7, "BY": 7, "KG": 5, "PL": 4, "DE": 3, "IT": 3, "BR": 3,
             "NL": 3, "IN": 3, "ES": 2, "FR": 2, "GE": 2, "IR": 2, "AR": 1, "EC": 2, "VN": 2, "KE": 1,
             "LK": 1},
    "CONS": {"CN": 50, "TR": 10, "RU": 7, "KR": 4, "VN": 4, "DE": 3, "IT": 4, "BY": 3, "UZ": 3, "IN": 2,
             "PL": 2, "BD": 2, "JP": 1, "US": 1},
    "MATL": {"RU": 30, "CN": 25, "BY": 5, "TR": 5, "DE": 5, "UZ": 4, "IR": 3, "KR": 3, "IT": 2, "PL": 2,
             "IN": 2, "JP": 1, "US": 1, "FI": 2, "BE": 1},
    "AUTO": {"CN": 25, "KR": 14, "JP": 12, "DE": 12, "RU": 10, "US": 4, "TR": 4, "UZ": 5, "FR": 2, "IT": 2,
             "CZ": 2, "PL": 2, "BY": 2, "IN": 2, "TH": 2},
    "PHAR": {"DE": 15, "IN": 12, "RU": 12, "FR": 6, "CH": 6, "HU": 5, "SI": 4, "US": 5, "CN": 6, "BY": 5,
             "TR": 4, "IT": 4, "GB": 3, "PL": 3, "KR": 2, "BE": 3},
}  # fmt: skip
PROFILE_NAMES = tuple(ORIGIN_PROFILES)

#: Log shift of the unit-value median by origin group (coalition goods dearer, Chinese cheaper).
ORIGIN_PRICE_SHIFT = {"coalition": 0.25, "CN": -0.25, "RU_BY": -0.1, "KZ": -0.15, "other": 0.0}

BRAND_GROUPS: dict[str, tuple[str, ...]] = {
    "none": (),
    "chips": ("Texas Instruments", "Analog Devices", "Maxim Integrated", "Intel", "Altera", "AMD", "Xilinx",
              "Infineon", "Cypress", "NXP", "Microchip", "STMicroelectronics", "Renesas", "GigaDevice",
              "Espressif", "Nexperia", "onsemi", "Samsung", "Micron", "Murata", "Vishay", "KEMET"),
    "telecom": ("Cisco", "Huawei", "Juniper", "TP-Link", "MikroTik", "Ubiquiti", "Ericsson", "Nokia", "ZTE"),
    "bearings": ("SKF", "FAG", "Timken", "NSK", "NTN", "ZWZ", "HRB", "Koyo"),
    "tools": ("DMG Mori", "Haas", "Mazak", "Okuma", "Trumpf", "Doosan", "DMTG", "Hurco"),
    "instruments": ("Keysight", "Tektronix", "Rohde & Schwarz", "Fluke", "Rigol", "Siglent", "Hioki"),
    "computers": ("Dell", "HP", "Lenovo", "Supermicro", "Huawei", "Inspur", "Intel", "AMD", "ASUS"),
    "phones": ("Samsung", "Apple", "Xiaomi", "Huawei", "Honor", "Realme", "Sony", "LG"),
    "auto": ("Bosch", "Denso", "Mann", "Valeo", "Continental", "Hyundai Mobis", "Chery", "Toyota"),
}  # fmt: skip
BRAND_GROUP_NAMES = tuple(BRAND_GROUPS)
MODE_CLASSES = ("small", "general", "heavy", "bulk", "pipe")

# hs6 | sectors | unit (u=piece, k=kg) | median USD per unit | kg per piece | median quantity per line
# | origin profile | brand group | mode class | KZ produces it (1/0) | description
_TABLE = """
020130|FA|k|6.5|0|18000|FOOD|none|general|1|Fresh or chilled boneless bovine meat
020230|F|k|4.2|0|20000|FOOD|none|general|0|Frozen boneless bovine meat
020714|F|k|2.1|0|20000|FOOD|none|general|0|Frozen cuts of fowls
040210|F|k|2.8|0|15000|FOOD|none|general|0|Milk powder, fat content not exceeding 1.5%
040690|F|k|5.5|0|8000|FOOD|none|general|0|Cheese
070190|FA|k|0.25|0|20000|FOOD|none|general|1|Potatoes, fresh or chilled
071340|A|k|0.6|0|25000|FOOD|none|bulk|1|Dried lentils
080390|F|k|0.9|0|18000|FOOD|none|general|0|Bananas, fresh
080810|F|k|0.7|0|18000|FOOD|none|general|0|Apples, fresh
090121|F|k|9.0|0|3000|FOOD|none|general|0|Coffee, roasted
090230|F|k|4.0|0|6000|FOOD|none|general|0|Black tea
100199|A|k|0.24|0|60000|FOOD|none|bulk|1|Wheat and meslin, other
100390|A|k|0.2|0|60000|FOOD|none|bulk|1|Barley, other
100630|F|k|0.6|0|20000|FOOD|none|general|0|Rice, wholly milled
110100|AF|k|0.3|0|40000|FOOD|none|bulk|1|Wheat flour
120600|A|k|0.45|0|40000|FOOD|none|bulk|1|Sunflower seeds
151219|FA|k|1.2|0|20000|FOOD|none|general|1|Sunflower oil, refined
170199|F|k|0.55|0|30000|FOOD|none|general|0|Cane or beet sugar
170490|F|k|3.5|0|6000|FOOD|none|general|0|Sugar confectionery
180690|F|k|5.0|0|5000|FOOD|none|general|0|Chocolate and cocoa preparations
190230|F|k|1.1|0|12000|FOOD|none|general|1|Pasta
190531|F|k|2.6|0|8000|FOOD|none|general|0|Sweet biscuits
200990|F|k|1.1|0|12000|FOOD|none|general|0|Fruit juice mixtures
220210|F|k|0.6|0|15000|FOOD|none|general|0|Soft drinks
220300|F|k|0.9|0|15000|FOOD|none|general|1|Beer made from malt
220860|F|k|3.2|0|6000|FOOD|none|general|0|Vodka
240220|F|k|28|0|2000|FOOD|none|general|0|Cigarettes containing tobacco
252329|CS|k|0.07|0|60000|MATL|none|bulk|1|Portland cement
260112|S|k|0.09|0|60000|MATL|none|bulk|1|Iron ore, agglomerated
270112|S|k|0.08|0|60000|MATL|none|bulk|1|Bituminous coal
270900|S|k|0.55|0|900000|MATL|none|pipe|1|Crude petroleum oils
271019|PH|k|1.1|0|15000|MATL|none|general|1|Lubricating oils
280700|H|k|0.15|0|40000|MATL|none|bulk|1|Sulphuric acid
281511|H|k|0.45|0|20000|MATL|none|bulk|0|Sodium hydroxide, solid
300220|H|k|180|0|300|PHAR|none|small|0|Vaccines for human medicine
300490|H|k|35|0|1500|PHAR|none|general|0|Medicaments in measured doses
310230|HA|k|0.35|0|40000|MATL|none|bulk|1|Ammonium nitrate fertiliser
320890|C|k|3.2|0|5000|MATL|none|general|0|Paints and varnishes
330499|G|k|18|0|1500|CONS|none|general|0|Beauty and skin-care preparations
340220|GH|k|1.6|0|10000|CONS|none|general|0|Washing and cleaning preparations
390110|H|k|1.3|0|20000|MATL|none|bulk|0|Polyethylene, density below 0.94
390410|H|k|1.1|0|20000|MATL|none|bulk|0|Polyvinyl chloride
391723|C|k|2.2|0|6000|MATL|none|general|0|Rigid tubes and pipes of PVC
392690|CGL|k|6.0|0|2500|CONS|none|general|0|Other articles of plastics
401110|PG|u|55|9|400|AUTO|auto|general|0|New pneumatic tyres for motor cars
401120|P|u|210|55|120|AUTO|auto|general|0|New pneumatic tyres for buses or lorries
440711|C|k|0.3|0|40000|MATL|none|bulk|0|Sawn coniferous wood
481910|GC|k|1.1|0|10000|MATL|none|general|0|Cartons of corrugated paper
610910|G|u|3.5|0.18|3000|CONS|none|general|0|T-shirts of cotton, knitted
620193|G|u|22|0.9|800|CONS|none|general|0|Men's anoraks and jackets of man-made fibres
640299|G|u|9|0.7|1500|CONS|none|general|0|Footwear with outer soles of rubber or plastics
680610|C|k|0.6|0|15000|MATL|none|general|0|Slag wool and mineral wools
690721|C|k|0.55|0|20000|MATL|none|general|0|Ceramic tiles
691010|C|u|45|18|300|MATL|none|general|0|Ceramic sinks and washbasins
700529|C|k|0.45|0|20000|MATL|none|general|0|Float glass, non-wired
700711|P|u|60|12|150|AUTO|auto|general|0|Toughened safety glass for vehicles
720241|S|k|1.6|0|40000|MATL|none|bulk|1|Ferro-chromium, more than 4% carbon
720839|S|k|0.75|0|50000|MATL|none|bulk|1|Flat-rolled iron, hot-rolled, coils
721420|CS|k|0.7|0|40000|MATL|none|bulk|1|Steel reinforcing bars
730630|C|k|1.0|0|20000|MATL|none|general|1|Welded tubes and pipes of iron
730890|C|k|1.8|0|15000|MATL|none|general|1|Structures and parts of iron or steel
731815|CPM|k|2.4|0|3000|MACH|none|general|0|Screws and bolts of iron or steel
732690|CML|k|4.0|0|3000|MATL|none|general|0|Other articles of iron or steel
740311|S|k|8.5|0|25000|MATL|none|bulk|1|Refined copper cathodes
760110|S|k|2.4|0|25000|MATL|none|bulk|1|Unwrought aluminium, not alloyed
790111|S|k|2.9|0|25000|MATL|none|bulk|1|Unwrought zinc, 99.99% pure
820559|CP|k|9|0|1500|MACH|none|general|0|Hand tools n.e.c.
840820|PM|u|4200|450|6|AUTO|auto|heavy|0|Compression-ignition engines for vehicles
841370|M|u|650|40|30|MACH|none|heavy|0|Centrifugal pumps
841480|M|u|1800|120|10|MACH|none|heavy|0|Air or gas compressors
841810|G|u|420|65|80|CONS|none|general|0|Combined refrigerator-freezers
842123|P|u|6|0.4|2000|AUTO|auto|general|0|Oil or petrol filters for engines
842619|M|u|95000|9000|1|MACH|none|heavy|0|Overhead travelling cranes and bridges
842833|M|u|12000|1500|2|MACH|none|heavy|0|Continuous-action conveyors
842952|CM|u|85000|20000|1|MACH|none|heavy|0|Excavators with 360-degree revolving superstructure
843149|MC|k|8|0|3000|MACH|none|heavy|0|Parts of cranes, excavators and similar machinery
844332|E|u|240|9|100|ELEC|computers|small|0|Printers and multifunction machines
845011|G|u|260|60|100|CONS|none|general|0|Household washing machines, fully automatic
847130|E|u|650|2.2|150|ELEC|computers|small|0|Portable computers (laptops)
847330|EL|k|60|0|400|ELEC|computers|small|0|Parts and accessories of computers
848180|MC|u|85|4|300|MACH|none|general|0|Taps, cocks and valves n.e.c.
850152|M|u|900|60|20|MACH|none|heavy|0|AC motors, multi-phase, 750 W to 75 kW
850213|M|u|28000|3500|1|MACH|none|heavy|0|Diesel generating sets above 375 kVA
850423|M|u|60000|30000|1|MACH|none|heavy|0|Liquid dielectric transformers above 10 MVA
850490|ML|k|14|0|1500|MACH|none|general|0|Parts of transformers and static converters
850710|P|u|85|16|300|AUTO|auto|general|0|Lead-acid batteries for starting engines
850760|EG|u|35|0.35|800|ELEC|phones|small|0|Lithium-ion accumulators
850811|G|u|95|5|200|CONS|none|general|0|Vacuum cleaners with self-contained motor
851110|P|u|3|0.06|3000|AUTO|auto|general|0|Spark plugs
851220|P|u|18|0.6|800|AUTO|auto|general|0|Lighting equipment for vehicles
851660|G|u|75|8|200|CONS|none|general|0|Ovens, cookers and hobs
851713|EG|u|260|0.2|400|ELEC|phones|small|0|Smartphones
851830|EG|u|18|0.12|1500|ELEC|phones|small|0|Headphones and earphones
851890|EL|k|30|0|500|ELEC|none|small|0|Parts of microphones, loudspeakers and amplifiers
852351|E|u|6|0.01|5000|ELEC|chips|small|0|Solid-state non-volatile storage devices (memory cards)
852852|E|u|140|5|200|ELEC|computers|small|0|Monitors for computers
852872|EG|u|320|14|150|ELEC|phones|general|0|Colour television receivers
853890|ML|k|35|0|600|MACH|none|general|0|Parts of switching and protecting apparatus
854449|CPM|k|6|0|5000|MATL|none|general|0|Electric conductors, up to 1000 V
870195|MA|u|65000|7000|1|MACH|none|heavy|0|Agricultural tractors above 130 kW
870323|P|u|24000|1400|4|AUTO|auto|heavy|0|Passenger cars, 1500-3000 cc petrol
870421|P|u|42000|6000|2|AUTO|auto|heavy|0|Diesel lorries up to 5 t
870830|P|u|25|2|1500|AUTO|auto|general|0|Brakes and servo-brakes for vehicles
870840|P|u|700|45|20|AUTO|auto|heavy|0|Gear boxes for vehicles
870899|PL|k|7|0|3000|AUTO|auto|general|0|Parts and accessories of motor vehicles n.e.c.
901890|H|u|120|1.5|200|PHAR|none|small|0|Medical instruments and appliances
940360|G|u|110|25|150|CONS|none|general|0|Wooden furniture
950300|G|k|8|0|3000|CONS|none|general|0|Toys
854231|E|u|6|0.003|2000|ELEC|chips|small|0|Integrated circuits: processors and controllers
854232|E|u|4|0.002|3000|ELEC|chips|small|0|Integrated circuits: memories
854233|E|u|2|0.002|3000|ELEC|chips|small|0|Integrated circuits: amplifiers
854239|E|u|3|0.003|2000|ELEC|chips|small|0|Integrated circuits, other
851762|EL|u|120|1.2|100|ELEC|telecom|small|0|Switching and routing apparatus for data
852691|EP|u|80|0.3|100|ELEC|telecom|small|0|Radio navigational aid apparatus (GNSS receivers)
853221|E|u|0.3|0.0005|50000|ELEC|chips|small|0|Fixed tantalum capacitors
853224|E|u|0.02|0.0001|500000|ELEC|chips|small|0|Multilayer ceramic capacitors
854800|E|u|8|0.05|2000|ELEC|chips|small|0|Electrical parts of machinery n.e.c. in chapter 85
847150|E|u|2500|15|10|ELEC|computers|small|0|Processing units (servers)
850440|EM|u|60|1.5|200|ELEC|none|small|0|Static converters and power supplies
851769|EL|u|90|0.8|150|ELEC|telecom|small|0|Apparatus for transmission of data n.e.c.
852589|EG|u|150|0.6|100|ELEC|telecom|small|0|Television and video cameras
852910|EP|u|25|0.8|300|ELEC|telecom|small|0|Aerials and aerial reflectors
852990|E|u|12|0.2|1000|ELEC|telecom|small|0|Parts of radio and television apparatus
853669|EPC|u|1.5|0.03|5000|ELEC|none|small|0|Plugs and sockets up to 1000 V
853690|EMC|u|2|0.02|5000|ELEC|none|small|0|Connectors and switching apparatus up to 1000 V
854110|E|u|0.05|0.0003|100000|ELEC|chips|small|0|Diodes
854121|E|u|0.08|0.0003|100000|ELEC|chips|small|0|Transistors below 1 W
854129|E|u|0.6|0.002|20000|ELEC|chips|small|0|Transistors of 1 W or more
854130|E|u|2|0.01|5000|ELEC|chips|small|0|Thyristors, diacs and triacs
854149|E|u|1.5|0.002|5000|ELEC|chips|small|0|Photosensitive semiconductor devices
854151|EP|u|3|0.003|5000|ELEC|chips|small|0|Semiconductor-based transducers (sensors)
854159|E|u|2|0.003|3000|ELEC|chips|small|0|Photosensitive semiconductor devices n.e.c.
854160|E|u|0.3|0.001|20000|ELEC|chips|small|0|Mounted piezo-electric crystals
848210|PM|u|3|0.3|3000|MACH|bearings|general|0|Ball bearings
848220|PM|u|12|1.2|800|MACH|bearings|general|0|Tapered roller bearings
848230|M|u|60|4|200|MACH|bearings|general|0|Spherical roller bearings
848250|M|u|40|3|200|MACH|bearings|general|0|Cylindrical roller bearings
880730|M|u|300|2|50|MACH|none|small|0|Parts of aeroplanes, helicopters or drones n.e.c.
901310|M|u|400|0.8|20|MACH|instruments|small|0|Telescopic sights and periscopes
901380|ME|u|80|0.5|100|ELEC|instruments|small|0|Optical devices n.e.c. (lasers, LCD modules)
901420|M|u|2000|3|5|MACH|instruments|small|0|Navigational instruments for aeronautics
901480|M|u|600|2|10|MACH|instruments|small|0|Navigational instruments n.e.c.
847180|E|u|150|2|100|ELEC|computers|small|0|Units of data processing machines n.e.c.
848610|M|u|150000|1500|1|MACH|tools|heavy|0|Machines for the manufacture of semiconductor wafers
848620|M|u|180000|1800|1|MACH|tools|heavy|0|Machines for the manufacture of semiconductor devices
848640|M|u|120000|1200|1|MACH|tools|heavy|0|Machines for assembling semiconductor devices
853400|E|u|8|0.05|3000|ELEC|chips|small|0|Printed circuits
854320|M|u|1500|5|5|MACH|instruments|small|0|Signal generators
902750|MH|u|3000|8|4|MACH|instruments|small|0|Instruments using optical radiations
903020|M|u|1200|4|8|MACH|instruments|small|0|Oscilloscopes and oscillographs
903032|ME|u|150|0.5|50|MACH|instruments|small|0|Multimeters with a recording device
903039|M|u|600|2|10|MACH|instruments|small|0|Instruments for measuring voltage, with a recording device
903082|M|u|20000|50|1|MACH|instruments|small|0|Instruments for checking semiconductor wafers or devices
845710|M|u|150000|6000|1|MACH|tools|heavy|0|Machining centres for working metal
845811|M|u|60000|3000|1|MACH|tools|heavy|0|Horizontal numerically controlled lathes for metal
845891|M|u|50000|2500|1|MACH|tools|heavy|0|Numerically controlled lathes for metal, other
845961|M|u|70000|3500|1|MACH|tools|heavy|0|Numerically controlled milling machines for metal
846693|M|k|45|0|300|MACH|tools|general|0|Parts and accessories of metal-working machine tools
"""

#: National extensions (last 4 digits of the 10-digit EAEU code) used by most HS6 codes.
_EXTENSIONS = ("0000", "1000", "9000", "0001", "0009", "1100", "9009", "8000")


@dataclass(frozen=True)
class GoodsCatalog:
    """The catalogue as parallel arrays indexed by item (one item per HS6)."""

    hs6: np.ndarray  # object, 6-digit strings
    description: np.ndarray  # object
    sectors: np.ndarray  # bool (n_items, n_sectors)
    per_piece: np.ndarray  # bool: has a supplementary unit (pieces)
    log_price: np.ndarray  # float: log median unit value (USD per piece or per kg)
    sigma: np.ndarray  # float: log-normal dispersion of the unit value
    kg_per_piece: np.ndarray  # float
    log_qty: np.ndarray  # float: log median quantity per line (pieces or kg)
    profile: np.ndarray  # int: index into PROFILE_NAMES
    brand_group: np.ndarray  # int: index into BRAND_GROUP_NAMES
    mode_class: np.ndarray  # int: index into MODE_CLASSES
    domestic: np.ndarray  # bool: Kazakhstan produces and exports it
    tier: np.ndarray  # int: CHPL tier rank 1..6, 0 when not on the CHPL
    hs10: np.ndarray  # object: flat array of all 10-digit codes
    hs10_start: np.ndarray  # int: first hs10 index of each item
    hs10_count: np.ndarray  # int: number of hs10 codes of each item
    origin_p: np.ndarray  # float (n_profiles, n_countries): origin probabilities of each profile

    @property
    def size(self) -> int:
        return len(self.hs6)

    def index(self, hs6: str) -> int:
        """The item index of an HS6 code."""
        return int(np.flatnonzero(self.hs6 == hs6)[0])

    def items_with_tier(self, ranks: tuple[int, ...]) -> np.ndarray:
        """Items whose CHPL tier rank is in `ranks`."""
        return np.flatnonzero(np.isin(self.tier, ranks))

    def sample_hs10(self, rng: np.random.Generator, items: np.ndarray) -> np.ndarray:
        """A 10-digit code index for each item (the first extension is the most used)."""
        u = rng.random(len(items)) ** 1.8
        return self.hs10_start[items] + (u * self.hs10_count[items]).astype(np.int64)


def _price_shift() -> np.ndarray:
    shift = np.full(len(geo.COUNTRIES), ORIGIN_PRICE_SHIFT["other"])
    shift[geo.IS_COALITION] = ORIGIN_PRICE_SHIFT["coalition"]
    shift[geo.C["CN"]] = ORIGIN_PRICE_SHIFT["CN"]
    shift[geo.idx(["RU", "BY"])] = ORIGIN_PRICE_SHIFT["RU_BY"]
    shift[geo.C["KZ"]] = ORIGIN_PRICE_SHIFT["KZ"]
    return shift


#: Log shift of the unit value by origin country (index by country).
PRICE_SHIFT = _price_shift()


@cache
def catalog() -> GoodsCatalog:
    """The goods catalogue (built once)."""
    rows = [line.split("|") for line in _TABLE.strip().splitlines()]
    n = len(rows)
    tiers = dict(zip(chpl_table()["hs6"], chpl_table()["tier"], strict=True))
    sectors = np.zeros((n, len(SECTORS)), dtype=bool)
    hs10: list[str] = []
    start, count = np.zeros(n, np.int64), np.zeros(n, np.int64)
    for i, row in enumerate(rows):
        for code in row[1]:
            sectors[i, SECTOR_CODES[code]] = True
        k = 1 + (int(row[0]) * 7 + 3) % 3  # 1..3 national codes per HS6, fixed by the code itself
        start[i], count[i] = len(hs10), k
        offset = int(row[0]) % len(_EXTENSIONS)
        hs10 += [row[0] + _EXTENSIONS[(offset + j) % len(_EXTENSIONS)] for j in range(k)]
    assert set(tiers) <= {r[0] for r in rows}, "every CHPL code is in the catalogue"
    origin_p = np.zeros((len(PROFILE_NAMES), len(geo.COUNTRIES)))
    for p, name in enumerate(PROFILE_NAMES):
        codes, probs = geo.weights(ORIGIN_PROFILES[name])
        origin_p[p, codes] = probs
    per_piece = np.array([r[2] == "u" for r in rows])
    chpl = np.array([r[0] in tiers for r in rows])
    return GoodsCatalog(
        hs6=np.array([r[0] for r in rows], dtype=object),
        description=np.array([r[10] for r in rows], dtype=object),
        sectors=sectors,
        per_piece=per_piece,
        log_price=np.log([float(r[3]) for r in rows]),
        # chips and components vary most; bulk commodities least
        sigma=np.where(chpl, 0.75, np.where(np.array([r[8] == "bulk" for r in rows]), 0.3, 0.5)),
        kg_per_piece=np.array([float(r[4]) for r in rows]),
        log_qty=np.log([float(r[5]) for r in rows]),
        profile=np.array([PROFILE_NAMES.index(r[6]) for r in rows]),
        brand_group=np.array([BRAND_GROUP_NAMES.index(r[7]) for r in rows]),
        mode_class=np.array([MODE_CLASSES.index(r[8]) for r in rows]),
        domestic=np.array([r[9] == "1" for r in rows]),
        tier=np.array([TIER_RANK[tiers[r[0]]] if r[0] in tiers else 0 for r in rows]),
        hs10=np.array(hs10, dtype=object),
        hs10_start=start,
        hs10_count=count,
        origin_p=origin_p,
    )


def brand_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All brands flat, with each group's start and count (index by brand group)."""
    flat: list[str] = []
    start, count = [], []
    for name in BRAND_GROUP_NAMES:
        start.append(len(flat))
        count.append(len(BRAND_GROUPS[name]))
        flat += BRAND_GROUPS[name]
    return np.array(flat, dtype=object), np.array(start), np.array(count)


def amounts(
    rng: np.random.Generator,
    cat: GoodsCatalog,
    items: np.ndarray,
    origin: np.ndarray,
    day: np.ndarray,
    start_day: int,
    qty_scale: np.ndarray | float = 1.0,
    price_factor: np.ndarray | float = 1.0,
) -> dict[str, np.ndarray]:
    """Quantity, masses and value of goods lines: log-normal quantity and unit value per item and origin,
    prices rising 4% a year. `quantity` is NaN for goods without a supplementary unit (sold by kg)."""
    n = len(items)
    qty = np.exp(cat.log_qty[items] + rng.normal(0, 1.0, n)) * qty_scale
    per_piece = cat.per_piece[items]
    qty = np.where(per_piece, np.maximum(np.round(qty), 1.0), np.round(qty, 1) + 0.1)
    years = (day - start_day) / 365.25
    log_uv = (
        cat.log_price[items] + PRICE_SHIFT[origin] + cat.sigma[items] * rng.normal(0, 1, n) + 0.04 * years
    )
    value = np.round(qty * np.exp(log_uv) * price_factor, 2)
    net = np.where(per_piece, qty * cat.kg_per_piece[items] * rng.lognormal(0, 0.12, n), qty)
    net = np.round(np.maximum(net, 0.001), 3)
    packing = np.where(cat.mode_class[items] >= 3, rng.uniform(1.0, 1.02, n), rng.uniform(1.03, 1.25, n))
    gross = np.round(net * packing, 3)
    return {
        "quantity": np.where(per_piece, qty, np.nan),
        "net": net,
        "gross": np.maximum(gross, net),
        "value": np.maximum(value, 0.01),
    }
