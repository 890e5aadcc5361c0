"""The service store's tables, generated from the canonical data model and the history specs.

- `feat_lines`: every line seen, keyed by `line_id`, with all canonical columns (so history can be re-read
  and trained on) plus its day number and declared extra columns as JSON;
- `feat_outcomes`: inspection outcomes (labels), one per line, with the key that sent it, when, and a note;
- `feat_agg_<name>`: per aggregate of `features.history.AGGREGATES`, sums of its measures per (key, day),
  plus a running total (`cum_<measure>`, over the key's days up to and including the row's) of each
  measure read over all history, so such a sum reads one row;
- `feat_pairs`: the first day each distinct value was seen with a key (and each `FirstDay` key's first day);
- `feat_distinct`: per `Distinct` query and key, how many pairs were first seen each day, with a running
  total, so a count of distinct values is one index seek however many values a key has;
- `decisions`: every scoring decision (the audit trail), with the list versions it was screened against,
  how the line was selected, its propensity and the model inputs it was made on (float32 bytes);
- `model_inputs`: each model version's input names, the order of its decisions' inputs;
- `service_secrets`: the key of the exploration draws, made once and shared by every worker;
- `office_day_places`: the lines that took a place in an office's red or yellow budget of a day;
- `sanction_lists`, `sanction_entries`: each loaded sanctions list version and its entries;
- `outcome_records`: every outcome ever received, corrections included (each naming the record it
  supersedes, with a reason); `feat_outcomes` holds each line's latest;
- `audit_records`, `audit_head`, `audit_checkpoints`: the hash-chained audit trail (`audit/`), its head and
  its signed checkpoints; decisions and outcome records carry the sequence number of their audit record;
- `api_keys`: keys made with `roundabout keys new`, with their expiry and rate limit, read by the service
  while it runs.

The schema is created and upgraded by the migrations in `migrations/` (Alembic), never from this metadata
directly; a test holds the two equal.
"""

from typing import Any

import sqlalchemy as sa

from roundabout.data.schema import LINE_FIELDS, Kind
from roundabout.features.history import AGGREGATES, QUERIES
from roundabout.features.specs import Aggregate, Distinct, WindowSum

SQL_TYPES = {Kind.TEXT: sa.Text, Kind.DATE: sa.Date, Kind.NUMBER: sa.Double, Kind.BOOL: sa.Boolean}

#: `Distinct` queries: their pairs also feed the running distinct counts.
DISTINCT_RELATIONS = frozenset(q.name for q in QUERIES if isinstance(q, Distinct) and q.rel is None)


def cumulative(agg: Aggregate) -> tuple[str, ...]:
    """Measures of `agg` read over all history: kept as a running total per key (`cum_<measure>`)."""
    return tuple(
        m
        for m in agg.measures
        if any(
            isinstance(q, WindowSum) and q.window is None and q.aggregate == agg.name and q.measure == m
            for q in QUERIES
        )
    )


def total_before(t: sa.Table, column: str, k: Any, d: Any, rel: Any = None) -> Any:
    """The running total `column` of key `k` (and `rel`, for `feat_distinct`) on its last day before `d`
    (NULL if none): one index seek."""
    a = t.alias()
    match = [a.c.key == k, a.c.day < d]
    if rel is not None:
        match.append(a.c.rel == rel)
    return sa.select(a.c[column]).where(*match).order_by(a.c.day.desc()).limit(1).scalar_subquery()


#: An autoincrementing 64-bit id (SQLite's autoincrement needs INTEGER).
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class StoreTables:
    """The tables, as SQLAlchemy metadata."""

    def __init__(self) -> None:
        self.meta = sa.MetaData()
        line_columns = [
            sa.Column(
                f.name, SQL_TYPES[f.kind], primary_key=f.name == "line_id", nullable=f.name != "line_id"
            )
            for f in LINE_FIELDS
        ]
        self.lines = sa.Table(
            "feat_lines",
            self.meta,
            *line_columns,
            sa.Column("day", sa.Integer, nullable=False, index=True),
            sa.Column("extra", sa.Text),
            sa.Index("ix_feat_lines_trader_day", "trader_id", "day"),
        )
        self.outcomes = sa.Table(
            "feat_outcomes",
            self.meta,
            sa.Column("line_id", sa.Text, primary_key=True),
            sa.Column("inspected_on", sa.Date, nullable=False),
            sa.Column("outcome", sa.Text, nullable=False),
            sa.Column("violation_type", sa.Text),
            sa.Column("selection", sa.Text),
            sa.Column("propensity", sa.Double),
            sa.Column("key_id", sa.String(64)),
            sa.Column("received_at", sa.DateTime(timezone=True)),
            sa.Column("note", sa.Text),
        )
        self.aggs = {
            agg.name: sa.Table(
                f"feat_agg_{agg.name}",
                self.meta,
                sa.Column("key", sa.Text, primary_key=True),
                sa.Column("day", sa.Integer, primary_key=True),
                *(sa.Column(m, sa.Double, nullable=False, server_default="0") for m in agg.measures),
                *(
                    sa.Column(f"cum_{m}", sa.Double, nullable=False, server_default="0")
                    for m in cumulative(agg)
                ),
            )
            for agg in AGGREGATES
        }
        self.pairs = sa.Table(
            "feat_pairs",
            self.meta,
            sa.Column("rel", sa.Text, primary_key=True),
            sa.Column("key", sa.Text, primary_key=True),
            sa.Column("value", sa.Text, primary_key=True),
            sa.Column("first_day", sa.Integer, nullable=False),
            sa.Index("ix_feat_pairs_first", "rel", "key", "first_day"),
        )
        self.distinct = sa.Table(
            "feat_distinct",
            self.meta,
            sa.Column("rel", sa.Text, primary_key=True),
            sa.Column("key", sa.Text, primary_key=True),
            sa.Column("day", sa.Integer, primary_key=True),
            sa.Column("n", sa.Double, nullable=False),
            sa.Column("cum", sa.Double, nullable=False),
        )
        self.decisions = sa.Table(
            "decisions",
            self.meta,
            sa.Column(
                "id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                primary_key=True,
                autoincrement=True,
            ),
            sa.Column("request_id", sa.String(64), nullable=False),
            sa.Column("key_id", sa.String(64), nullable=False),
            sa.Column("line_id", sa.String(128), nullable=False, index=True),
            sa.Column("model_name", sa.String(128), nullable=False),
            sa.Column("model_version", sa.String(32), nullable=False),
            sa.Column("risk_score", sa.Float, nullable=False),
            sa.Column("anomaly_score", sa.Float, nullable=False),
            sa.Column("channel", sa.String(8), nullable=False),
            sa.Column("reasons", sa.Text, nullable=False),
            sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("oddness_score", sa.Float, nullable=True),
            sa.Column("list_versions", sa.Text, nullable=True),
            sa.Column("selection", sa.String(16), nullable=True),
            sa.Column("propensity", sa.Float, nullable=True),
            sa.Column("inputs", sa.LargeBinary, nullable=True),
            sa.Column("audit_seq", sa.BigInteger, nullable=True),
        )
        self.model_inputs = sa.Table(
            "model_inputs",
            self.meta,
            sa.Column("model_name", sa.String(128), primary_key=True),
            sa.Column("model_version", sa.String(32), primary_key=True),
            sa.Column("names", sa.Text, nullable=False),
        )
        self.places = sa.Table(
            "office_day_places",
            self.meta,
            sa.Column("line_id", sa.String(128), primary_key=True),
            sa.Column("office", sa.Text, nullable=False),
            sa.Column("day", sa.Date, nullable=False),
            sa.Column("channel", sa.String(8), nullable=False),
            sa.Index("ix_office_day_places", "office", "day", "channel"),
        )
        self.secrets = sa.Table(
            "service_secrets",
            self.meta,
            sa.Column("name", sa.String(64), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
        )
        self.sanction_lists = sa.Table(
            "sanction_lists",
            self.meta,
            sa.Column("version", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("list_name", sa.String(64), nullable=False),
            sa.Column("format", sa.String(32), nullable=False),
            sa.Column("published", sa.Date, nullable=True),
            sa.Column("content_hash", sa.String(64), nullable=False),
            sa.Column("entry_count", sa.Integer, nullable=False),
            sa.Column("source", sa.Text, nullable=False),
            sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
            sa.UniqueConstraint("list_name", "content_hash", name="uq_sanction_lists_content"),
        )
        self.sanction_entries = sa.Table(
            "sanction_entries",
            self.meta,
            sa.Column("list_version", sa.Integer, sa.ForeignKey("sanction_lists.version"), primary_key=True),
            sa.Column("entry_id", sa.String(128), primary_key=True),
            sa.Column("entry", sa.Text, nullable=False),
        )

        self.outcome_records = sa.Table(
            "outcome_records",
            self.meta,
            sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
            sa.Column("line_id", sa.Text, nullable=False, index=True),
            sa.Column("inspected_on", sa.Date, nullable=False),
            sa.Column("outcome", sa.Text, nullable=False),
            sa.Column("violation_type", sa.Text),
            sa.Column("selection", sa.Text),
            sa.Column("propensity", sa.Double),
            sa.Column("key_id", sa.String(64)),
            sa.Column("received_at", sa.DateTime(timezone=True)),
            sa.Column("note", sa.Text),
            sa.Column("supersedes", sa.BigInteger, nullable=True),
            sa.Column("reason", sa.Text, nullable=True),
            sa.Column("audit_seq", sa.BigInteger, nullable=True),
        )
        self.audit_records = sa.Table(
            "audit_records",
            self.meta,
            sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("kind", sa.String(32), nullable=False),
            sa.Column("actor", sa.String(128), nullable=False),
            sa.Column("subject", sa.Text, nullable=True),
            sa.Column("content", sa.Text, nullable=False),
            sa.Column("prev_hash", sa.String(64), nullable=False),
            sa.Column("hash", sa.String(64), nullable=False),
            sa.Index("ix_audit_records_subject", "subject"),
            sa.Index("ix_audit_records_at", "at"),
        )
        self.audit_head = sa.Table(
            "audit_head",
            self.meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("seq", sa.BigInteger, nullable=False),
            sa.Column("hash", sa.String(64), nullable=False),
        )
        self.audit_checkpoints = sa.Table(
            "audit_checkpoints",
            self.meta,
            sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("hash", sa.String(64), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("key_id", sa.String(64), nullable=False),
            sa.Column("signature", sa.String(128), nullable=False),
        )
        self.api_keys = sa.Table(
            "api_keys",
            self.meta,
            sa.Column("id", sa.String(64), primary_key=True),
            sa.Column("sha256", sa.String(64), nullable=False, unique=True),
            sa.Column("scopes", sa.Text, nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("rate_per_second", sa.Double, nullable=True),
            sa.Column("burst", sa.Integer, nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        )

    @property
    def names(self) -> list[str]:
        """Every table's name, in dependency order."""
        return [t.name for t in self.meta.sorted_tables]
