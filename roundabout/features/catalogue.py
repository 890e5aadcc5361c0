"""The feature catalogue: every feature's name, family, type, meaning, motivating red flag and reason text.

The order here is the column order of every feature frame. docs/features.md is written from this list;
the reason template is what the API shows when the feature drives a score (`{value}` is the feature value).
`source` names the primary source briefly; docs/features.md ("Sources") gives each in full.
"""

from dataclasses import dataclass
from typing import Literal

Family = Literal[
    "goods", "route", "value", "trader", "chains", "counterparties", "parties", "raw", "context", "extra"
]
Dtype = Literal["numeric", "count", "binary", "category"]

_ALERTS = "FinCEN/BIS joint alerts (June 2022, May 2023)"
_E5 = "E5 guidance (Sept 2023)"
_KYC = "BIS Know Your Customer red flags"
_EBRD = "EBRD 'Eurasian Roundabout' (Chupilkin, Javorcik, Plekhanov 2023)"
_CHPL = "BIS Common High Priority List (23 Feb 2024)"
_RUSI = "RUSI 'Silicon Lifeline' (Aug 2022)"
#: Customs-fraud research on declaration data: risk profiles from the importer's and the declarant's
#: inspection history (smoothed illicit rates), the practice these history features follow.
_DATE = "DATE (Kim et al., KDD 2020): importer/declarant risk profiles"
#: The declaration's own columns, given to the model as they are: what a model fitted on an
#: administration's raw table learns from, kept beside the engineered features so the product never
#: knows less than such a model does.
#: Judging a line against lines of the same commodity (rare origins, routes and ratios for the goods).
_CONTEXT = "WCO Customs Risk Management Compendium (vol. 2, risk indicators)"
#: The lists a line's parties are screened against, and the network red flags of the alerts.
_LISTS = "Sanctions lists: OFAC SDN, EU consolidated, UK sanctions list, OpenSanctions"
_NETWORK = "FinCEN/BIS joint alerts (June 2022, May 2023): shared counterparties, new front companies"
_RAW = "Data model: the declaration's own fields (DT boxes; the mapped columns of another administration)"


@dataclass(frozen=True)
class FeatureSpec:
    """One model input. `category` features are level codes: 0 = other/unseen, 1.. = fitted levels."""

    name: str
    family: Family
    dtype: Dtype
    description: str
    source: str
    reason: str
    #: The feature that must be above 0 for the reason to be true: a smoothed rate of no inspections is
    #: the prior, and "earlier inspections found violations" would claim a history that does not exist.
    evidence: str | None = None


def _f(
    name: str,
    family: Family,
    dtype: Dtype,
    description: str,
    source: str,
    reason: str,
    evidence: str | None = None,
) -> FeatureSpec:
    return FeatureSpec(name, family, dtype, description, source, reason, evidence)


# fmt: off
FEATURES: tuple[FeatureSpec, ...] = (
    # goods
    _f("hs_chapter", "goods", "category", "HS chapter (first 2 digits) as a fitted level code", _CHPL,
       "Goods of HS chapter {value}"),
    _f("hs_heading", "goods", "numeric", "HS heading (first 4 digits) as a number", _CHPL,
       "Goods of HS heading {value:.0f}"),
    _f("chpl_tier_rank", "goods", "numeric",
       "CHPL tier of the HS6 (1 = Tier 1 ... 6 = Tier 4.B; 0 = not listed)", _CHPL,
       "The goods are on the Common High Priority List (tier rank {value:.0f})"),
    _f("chpl_tier12", "goods", "binary", "HS6 is on CHPL Tier 1 or 2 (integrated circuits, radio parts)",
       _CHPL, "The goods are Tier 1-2 items of the Common High Priority List"),
    _f("chipmaker_brand", "goods", "binary",
       "Description names a chipmaker whose parts were found in Russian weapons", _RUSI,
       "The description names a chipmaker whose parts were found in Russian weapons"),
    _f("brand_code_mismatch", "goods", "binary",
       "Description names a chipmaker but the code is outside chapters 84, 85 and 90", _E5,
       "The description names a chipmaker but the declared code is not electronics"),
    # route
    _f("document_kind", "route", "category", "DT (goods declaration) or SNT (e-waybill), fitted level code",
       "Data model: EAEU goods declaration (DT); Kazakh e-waybill (SNT, KGD IS ESF)",
       "Document kind {value}"),
    _f("direction", "route", "category", "import / export / transit, fitted level code",
       "Data model: DT box 1 (IM/EK/TT); SNT import or export", "Direction {value}"),
    _f("procedure", "route", "category", "Customs procedure code (DT), fitted level code",
       "EAEU Customs Code procedures; DT boxes 1 and 37 (CU Commission Decision 378, 2010)",
       "Customs procedure {value}"),
    _f("destination_ru_by", "route", "binary", "Destination country is Russia or Belarus", _ALERTS,
       "The goods are bound for Russia or Belarus"),
    _f("counterparty_ru_by", "route", "binary", "Counterparty is in Russia or Belarus", _ALERTS,
       "The counterparty is in Russia or Belarus"),
    _f("destination_eaeu", "route", "binary", "Destination is another EAEU member (no customs border)",
       "Treaty on the EAEU (29 May 2014): no customs border inside the union",
       "The goods go to another EAEU country, past no customs check"),
    _f("origin_country", "route", "category", "Country of origin, fitted level code", _E5, "Origin {value}"),
    _f("destination_country", "route", "category", "Country of destination, fitted level code", _E5,
       "Destination {value}"),
    _f("coalition_origin_chpl", "route", "binary", "CHPL goods made in an export-control coalition country",
       _E5, "High-priority goods of Western (coalition) origin"),
    _f("dispatch_transshipment_hub", "route", "binary",
       "Dispatched from a BIS-named transshipment point other than Kazakhstan", _ALERTS,
       "The goods were dispatched from a known transshipment hub"),
    _f("countries_all_different", "route", "binary", "Origin, dispatch and trading countries all differ", _E5,
       "Origin, dispatch and trading countries are all different"),
    _f("transport_mode", "route", "category", "Transport mode at the border, fitted level code", _E5,
       "Transport mode {value}"),
    _f("customs_office", "route", "category", "Customs office or border post, fitted level code", _E5,
       "Customs office {value}"),
    _f("transport_mode_share_heading", "route", "numeric",
       "Share of reference lines of this HS heading that use this transport mode", _E5,
       "Only {value:.1%} of such goods travel by this transport mode"),
    _f("customs_office_share_heading", "route", "numeric",
       "Share of reference lines of this HS heading cleared at this customs office", _E5,
       "Only {value:.1%} of such goods are cleared at this customs office"),
    # value
    _f("log_value_usd", "value", "numeric", "log(1 + customs value in USD)", _EBRD,
       "Customs value of the line"),
    _f("unit_value_per_kg", "value", "numeric", "Customs value per kg of net mass (USD/kg)", _EBRD,
       "Unit value {value:,.2f} USD per kg"),
    _f("unit_value_per_unit", "value", "numeric", "Customs value per supplementary unit (USD/unit)", _EBRD,
       "Unit value {value:,.2f} USD per unit"),
    _f("uv_kg_z", "value", "numeric",
       "Robust z of log value/kg against the fitted HS6+origin (or HS6, chapter) reference; signed", _EBRD,
       "Value per kg is {value:+.1f} robust deviations from the usual for these goods"),
    _f("uv_kg_abs_z", "value", "numeric", "|uv_kg_z|: distance from the reference either way", _EBRD,
       "Value per kg is far ({value:.1f} robust deviations) from the usual for these goods"),
    _f("uv_unit_z", "value", "numeric", "Robust z of log value/unit against the fitted reference; signed",
       _EBRD, "Value per unit is {value:+.1f} robust deviations from the usual for these goods"),
    _f("uv_unit_abs_z", "value", "numeric", "|uv_unit_z|", _EBRD,
       "Value per unit is far ({value:.1f} robust deviations) from the usual for these goods"),
    _f("uv_ref_level", "value", "numeric",
       "Which reference the value/kg z used: 3 = HS6+origin, 2 = HS6, 1 = chapter, 0 = none", _EBRD,
       "Unit-value reference level {value:.0f}"),
    # trader
    _f("trader_age_days", "trader", "numeric",
       "Days from the trader's registration (BIN YYMM, else first line seen) to the line's date", _KYC,
       "The trader was registered {value:,.0f} days before this line"),
    _f("trader_registered_after_invasion", "trader", "binary", "Trader registered on or after 24 Feb 2022",
       _ALERTS, "The trader was registered after 24 Feb 2022"),
    _f("trader_id_is_bin", "trader", "binary", "Trader id is a Kazakh BIN (registration date known)",
       "Data model: DT party id, Kazakh BIN (Law 223 of 12 Jan 2007 on identification numbers)",
       "Trader id is a Kazakh BIN"),
    _f("trader_lines_30d", "trader", "count", "Trader's lines in the 30 days before the line's date", _ALERTS,
       "The trader lodged {value:.0f} lines in the last 30 days"),
    _f("trader_lines_90d", "trader", "count", "Trader's lines in the 90 days before", _ALERTS,
       "The trader lodged {value:.0f} lines in the last 90 days"),
    _f("trader_lines_365d", "trader", "count", "Trader's lines in the 365 days before", _ALERTS,
       "The trader lodged {value:.0f} lines in the last year"),
    _f("trader_value_30d", "trader", "numeric", "Trader's customs value (USD) in the 30 days before", _ALERTS,
       "The trader moved {value:,.0f} USD in the last 30 days"),
    _f("trader_value_90d", "trader", "numeric", "Trader's customs value (USD) in the 90 days before", _ALERTS,
       "The trader moved {value:,.0f} USD in the last 90 days"),
    _f("trader_value_365d", "trader", "numeric", "Trader's customs value (USD) in the 365 days before",
       _ALERTS, "The trader moved {value:,.0f} USD in the last year"),
    _f("trader_value_spike", "trader", "numeric",
       "Trader's 30-day value over its 365-day monthly average (value_365d * 30/365); NaN without history",
       _ALERTS, "The trader's volume jumped to {value:.1f} times its usual monthly level"),
    _f("trader_chpl_share_all", "trader", "numeric", "Share of CHPL goods in the trader's value, all history",
       _ALERTS, "{value:.0%} of the trader's past value is high-priority goods"),
    _f("trader_chpl_share_90d", "trader", "numeric",
       "Share of CHPL goods in the trader's value, last 90 days", _ALERTS,
       "{value:.0%} of the trader's recent value is high-priority goods"),
    _f("trader_chpl_share_shift", "trader", "numeric", "trader_chpl_share_90d - trader_chpl_share_all", _EBRD,
       "The trader's product mix shifted toward high-priority goods ({value:+.0%})"),
    _f("trader_hs6_prior_lines", "trader", "count", "Trader's earlier lines of this HS6 (0 = new product)",
       _KYC, "The trader had {value:.0f} earlier lines of these goods"),
    _f("first_chpl_after_invasion", "trader", "binary",
       "The trader's Tier 1-2 history (earlier lines and this one) starts on or after 24 Feb 2022", _ALERTS,
       "The trader's first line of Tier 1-2 goods is dated after 24 Feb 2022"),
    _f("trader_counterparties", "trader", "count",
       "Distinct counterparty names of the trader before the line", _KYC,
       "The trader dealt with {value:.0f} different counterparties before"),
    _f("trader_counterparty_countries", "trader", "count",
       "Distinct counterparty countries of the trader before", _KYC,
       "The trader dealt with counterparties in {value:.0f} countries before"),
    _f("trader_inspections", "trader", "count", "Outcomes of the trader's lines known before the line's date",
       _DATE, "{value:.0f} earlier inspections of this trader"),
    _f("trader_violation_rate", "trader", "numeric",
       "Smoothed violation rate of the trader's inspected lines known before the date (prior from training)",
       _DATE, "Earlier inspections of this trader found violations ({value:.0%} smoothed)",
       "trader_inspections"),
    # chains
    _f("chain_lag_days", "chains", "numeric",
       "Export to RU/BY: days since the trader's latest import of the same HS6 (180-day look-back)", _ALERTS,
       "Exported to Russia/Belarus {value:.0f} days after the trader imported the same goods"),
    _f("chain_reship_share", "chains", "numeric",
       "Export to RU/BY: this line's quantity over the trader's imports of the HS6 in the 90 days before",
       _ALERTS, "{value:.0%} of the goods the trader imported recently is shipped on to Russia/Belarus"),
    _f("trader_ru_by_exports", "chains", "count", "Trader's earlier export lines bound for RU/BY", _ALERTS,
       "The trader sent {value:.0f} earlier lines to Russia/Belarus"),
    _f("trader_quick_reships", "chains", "count",
       "Trader's earlier RU/BY-bound exports within 30 days of importing the same HS6", _ALERTS,
       "The trader re-shipped imports to Russia/Belarus within 30 days {value:.0f} times before"),
    _f("trader_quick_reship_share", "chains", "numeric", "trader_quick_reships / trader_ru_by_exports",
       _ALERTS, "{value:.0%} of the trader's shipments to Russia/Belarus quickly followed an import"),
    _f("transit_ru_by_party", "chains", "binary",
       "Transit line whose destination, counterparty or trading country is RU/BY (NaN if not transit)", _E5,
       "Transit goods connected with Russia or Belarus"),
    _f("transit_destination_mismatch", "chains", "binary",
       "Transit line whose destination differs from the buyer's or trading country (NaN if not transit)", _E5,
       "The transit destination differs from the buyer's country"),
    # counterparties
    _f("declarant_lines", "counterparties", "count", "Declarant's/broker's lines before the line's date",
       _DATE, "The declarant lodged {value:.0f} earlier lines"),
    _f("declarant_lines_90d", "counterparties", "count", "Declarant's lines in the 90 days before", _DATE,
       "The declarant lodged {value:.0f} lines in the last 90 days"),
    _f("declarant_chpl_share", "counterparties", "numeric", "Share of CHPL goods among the declarant's lines",
       _DATE, "{value:.0%} of the declarant's lines are high-priority goods"),
    _f("declarant_inspections", "counterparties", "count", "Outcomes of the declarant's lines known before",
       _DATE, "{value:.0f} earlier inspections of this declarant's lines"),
    _f("declarant_violation_rate", "counterparties", "numeric",
       "Smoothed violation rate of the declarant's inspected lines known before the date", _DATE,
       "Earlier inspections of this declarant's lines found violations ({value:.0%} smoothed)",
       "declarant_inspections"),
    _f("counterparty_traders", "counterparties", "count",
       "Distinct traders seen with this counterparty name before the line", _KYC,
       "This counterparty dealt with {value:.0f} different Kazakh traders"),
    _f("counterparty_new_traders_90d", "counterparties", "count",
       "Traders first seen with this counterparty name in the 90 days before the line", _NETWORK,
       "This counterparty took on {value:.0f} new traders in the last 90 days"),
    _f("counterparty_inspections", "counterparties", "count",
       "Inspected lines of this counterparty (any trader) known before the date", _DATE,
       "Lines with this counterparty were inspected {value:.0f} times before"),
    _f("counterparty_violation_rate", "counterparties", "numeric",
       "Smoothed violation rate of inspected lines with this counterparty, any trader (prior from training)",
       _NETWORK,
       "Earlier inspections of lines with this counterparty found violations ({value:.0%} smoothed)",
       "counterparty_inspections"),
    _f("trader_flagged_counterparties", "counterparties", "count",
       "The trader's counterparties (before the date) on whose lines, whoever the trader, inspections had "
       "found violations before the date", _NETWORK,
       "{value:.0f} of this trader's counterparties were behind violations found on other lines"),
    # parties: the sanctions lists and the trade network around listed parties
    _f("counterparty_list_score", "parties", "numeric",
       "Best match score of the counterparty's name on the sanctions lists (entries listed by the date; "
       "0 none from 0.5; missing when no list is loaded)", _LISTS,
       "The counterparty resembles a listed party (score {value:.2f})"),
    _f("trader_list_score", "parties", "numeric",
       "Best match score of the trader's name on the sanctions lists (as the counterparty's)", _LISTS,
       "The trader resembles a listed party (score {value:.2f})"),
    _f("listed_party_russia", "parties", "binary",
       "A party of the line matches an entry listed under a Russia programme (RUSSIA-EO14024 and kin)",
       _LISTS, "A party of the line matches an entry listed under a Russia sanctions programme"),
    _f("listed_party_distance", "parties", "numeric",
       "Steps from the trader to a listed party in the trade graph as of the date: 0 listed, 1 ships to "
       "one, 2 its counterparty dealt with a listed trader, 3 none", _NETWORK,
       "The trader is within {value:.0f} step(s) of a listed party in the trade network"),
    # raw: the declaration's own fields as a tree model uses them (codes as categories, amounts as numbers)
    _f("raw_hs6", "raw", "category", "HS6 of the commodity code, fitted level code (rare codes grouped)",
       _RAW, "Goods of HS6 code {value}"),
    _f("raw_dispatch_country", "raw", "category", "Country of dispatch, fitted level code", _RAW,
       "Dispatched from {value}"),
    _f("raw_trading_country", "raw", "category", "Trading country, fitted level code", _RAW,
       "Trading country {value}"),
    _f("raw_counterparty_country", "raw", "category", "Counterparty country, fitted level code", _RAW,
       "Counterparty in {value}"),
    _f("raw_net_mass_kg", "raw", "numeric", "Net mass in kg, as declared", _RAW, "Net mass {value:,.1f} kg"),
    _f("raw_gross_mass_kg", "raw", "numeric", "Gross mass in kg, as declared", _RAW,
       "Gross mass {value:,.1f} kg"),
    _f("raw_quantity", "raw", "numeric", "Quantity in supplementary units, as declared", _RAW,
       "Quantity {value:,.0f} units"),
    _f("raw_trader_id", "raw", "category",
       "Trader id, fitted level code (traders with at least 5 training lines, the most frequent 1,000)", _RAW,
       "Trader {value}"),
    _f("raw_declarant_id", "raw", "category", "Declarant id, fitted level code (as trader ids)", _RAW,
       "Declarant {value}"),
    _f("raw_counterparty", "raw", "category",
       "Counterparty name (case- and spacing-blind), fitted level code", _RAW, "Counterparty {value}"),
    # context: how unlike training lines of the same direction and commodity (HS6, else HS4, chapter) it is
    _f("origin_surprise", "context", "numeric",
       "-log Witten-Bell probability of the origin among lines of this HS6 (backing off to HS4, chapter)",
       _CONTEXT, "The origin is rare for these goods (surprise {value:.1f})"),
    _f("dispatch_surprise", "context", "numeric", "-log probability of the dispatch country, as origin",
       _CONTEXT, "The dispatch country is rare for these goods (surprise {value:.1f})"),
    _f("mode_surprise", "context", "numeric", "-log probability of the transport mode, as origin", _CONTEXT,
       "The transport mode is rare for these goods (surprise {value:.1f})"),
    _f("office_surprise", "context", "numeric", "-log probability of the customs office, as origin",
       _CONTEXT, "The customs office is rare for these goods (surprise {value:.1f})"),
    _f("counterparty_country_surprise", "context", "numeric",
       "-log probability of the counterparty country, as origin", _CONTEXT,
       "The counterparty country is rare for these goods (surprise {value:.1f})"),
    _f("route_surprise", "context", "numeric",
       "-log probability of the route (origin > dispatch > transport mode), as origin", _CONTEXT,
       "The route is rare for these goods (surprise {value:.1f})"),
    _f("qty_per_kg_z", "context", "numeric",
       "Robust z of log(quantity / net kg) against lines of this HS6 (else HS4, chapter); signed", _CONTEXT,
       "Quantity per kg is {value:+.1f} robust deviations from the usual for these goods"),
    _f("gross_net_z", "context", "numeric",
       "Robust z of log(gross / net mass) against lines of this HS6 (else HS4, chapter); signed", _CONTEXT,
       "Gross-to-net mass ratio is {value:+.1f} robust deviations from the usual for these goods"),
)
# fmt: on

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
BY_NAME: dict[str, FeatureSpec] = {f.name: f for f in FEATURES}
CATEGORICAL: tuple[str, ...] = tuple(f.name for f in FEATURES if f.dtype == "category")

assert len(BY_NAME) == len(FEATURES), "feature names are unique"


def extra_feature_name(column: str) -> str:
    """Name of the feature carrying a declared extra column."""
    return f"extra_{column}"


def catalogue_markdown() -> str:
    """The catalogue as the markdown table of docs/features.md (a test keeps the two in sync)."""
    lines = [
        "| # | feature | family | type | meaning | red flag / source | reason shown |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, f in enumerate(FEATURES, start=1):
        cells = [str(i), f"`{f.name}`", f.family, f.dtype, f.description, f.source, f.reason]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
