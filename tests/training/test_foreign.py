"""Another administration's declaration table (foreign column names, own fraud label, fixed
train/valid/test files) trains and evaluates through the ingest mapping, with id target statistics."""

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from roundabout.data.ingest import ingest
from roundabout.data.io import read_folder
from roundabout.data.mapping import load_mapping
from roundabout.data.validation import FormatRules
from roundabout.models.mlflow_service import MlflowService
from roundabout.training import TrainConfig, evaluate_model, train
from roundabout.training.evaluate import HOLDOUT_PERIOD

MAPPING = """
name: foreign-declarations
rules:
  trader_id_pattern: 'IMP\\d{5}'
  hs_code_digits: [6]
  missing: [trader_name, counterparty_country, description, dispatch_country, trading_country,
            gross_mass_kg, quantity, transport_mode, previous_document_id]
columns:
  line_id: [DECL_ID, ITEM]
  document_id: DECL_ID
  date: DECL_DATE
  trader_id: IMPORTER
  declarant_id: DECLARANT
  counterparty_name: SELLER
  customs_office: OFFICE
  hs_code: HS6
  origin_country: ORIGIN
  destination_country: DEST
  net_mass_kg: MASS_KG
  value_usd: PRICE_USD
constants: {document_kind: DT, direction: import, procedure: "40"}
extra_columns:
  payment_type: {source: PAYMENT, kind: categorical}
  tax_rate: {source: TAX_RATE, kind: numeric}
outcomes:
  inspected_on: DECL_DATE
  outcome: FRAUD
  values: {outcome: {"1": violation, "0": clean}}
"""


def _table(rng: np.random.Generator, n: int, start: date, first_id: int) -> pd.DataFrame:
    importers = np.array([f"IMP{i:05d}" for i in range(300)])
    risky = set(importers[:30])  # a tenth of importers commit most fraud
    imp = rng.choice(importers, n)
    hs = rng.choice(["847150", "854231", "620342", "300490", "870899", "940360"], n)
    mass = np.round(rng.lognormal(4, 1, n), 1)
    fraud = np.array([rng.random() < (0.45 if i in risky else 0.04) for i in imp])
    price = np.round(mass * rng.lognormal(3, 0.3, n) * np.where(fraud, 0.4, 1.0), 2)  # under-valued
    return pd.DataFrame(
        {
            "DECL_ID": [f"D{first_id + i}" for i in range(n)],
            "ITEM": "1",
            "DECL_DATE": [
                (start + timedelta(days=int(d))).isoformat() for d in np.sort(rng.integers(0, 90, n))
            ],
            "IMPORTER": imp,
            "DECLARANT": rng.choice([f"DCL{i}" for i in range(40)], n),
            "SELLER": rng.choice([f"Seller {i} Ltd" for i in range(500)], n),
            "OFFICE": rng.choice(["OF1", "OF2", "OF3"], n),
            "HS6": hs,
            "ORIGIN": rng.choice(["CN", "DE", "TR", "US"], n),
            "DEST": "KZ",
            "MASS_KG": mass,
            "PRICE_USD": price,
            "PAYMENT": rng.choice(["cash", "credit", "deferred"], n),
            "TAX_RATE": rng.choice([0.0, 5.0, 10.0], n),
            "FRAUD": fraud.astype(int).astype(str),
        }
    )


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("foreign")
    (root / "mapping.yaml").write_text(MAPPING)
    mapping = load_mapping(root / "mapping.yaml")
    rng = np.random.default_rng(0)
    out: dict[str, Path] = {}
    for i, (part, n, start) in enumerate(
        (
            ("train", 3000, date(2023, 1, 1)),
            ("valid", 1000, date(2023, 4, 1)),
            ("test", 1000, date(2023, 7, 1)),
        )
    ):
        source = root / f"{part}.csv"
        _table(rng, n, start, i * 10_000).to_csv(source, index=False)
        result = ingest(source, mapping, root / part, FormatRules(max_date=date(2030, 1, 1)))
        assert result.lines.rows_rejected == 0
        out[part] = root / part
    return out


def test_foreign_table_trains_and_evaluates(folders: dict[str, Path], tmp_path: Path) -> None:
    config = TrainConfig.model_validate(
        {
            "split": {"kind": "folders", "valid_data": folders["valid"], "holdout_data": folders["test"]},
            "target_stats": {"columns": ["trader_id", "declarant_id", "counterparty_name", "hs_code"]},
            "anomaly": {"n_estimators": 50},
            "channels": {"period_days": 30},
        }
    )
    service = MlflowService(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "mlartifacts")
    result = train(folders["train"], service, config, experiment="foreign", register="foreign")
    model = result.model
    assert result.decision is not None and result.decision.alias == "champion"
    assert {"te_trader_id_rate", "extra_payment_type", "extra_tax_rate"} <= set(model.feature_names)
    # Sellers and declarants are drawn at random in this table: their ids carry nothing and are left out.
    assert result.search is not None and {"ids counterparty_name", "ids declarant_id"} <= set(
        result.search.dropped
    )
    assert not {"te_counterparty_name_rate", "te_declarant_id_rate"} & set(model.feature_names)
    assert "trader_id" not in model.feature_names  # raw ids are never inputs
    assert "extra_payment_type" in model.categorical
    assert result.counts["train_labelled"] == 3000 and result.counts["holdout_labelled"] == 1000

    outcomes = result.report["model"]["outcomes"]
    base_rate = outcomes["positives"] / outcomes["lines"]
    assert outcomes["rates"]["at_10pct"]["precision"] > 2 * base_rate
    assert outcomes["roc_auc"] > 0.75
    assert "truth" not in result.report["model"]
    # The out-of-fold statistics carry the importer signal: risky importers get higher rates.
    test_lines = read_folder(folders["test"]).lines
    rates = model.target_stats.transform(test_lines)[:, model.target_stats.columns.index("trader_id") * 2]
    risky = test_lines["trader_id"].isin([f"IMP{i:05d}" for i in range(30)]).to_numpy()
    assert rates[risky].mean() > 3 * rates[~risky].mean()

    # Re-evaluated on the test folder alone (no earlier history): by default its holdout period, i.e. the
    # whole folder.
    report = evaluate_model(service, "models:/foreign@champion", folders["test"])
    assert report["meta"]["lines"] == 1000 and report["meta"]["period"] == HOLDOUT_PERIOD
    assert report["model"]["outcomes"]["roc_auc"] > 0.75
