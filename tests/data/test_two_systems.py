"""Declarations (DT, three related tables) and e-waybills (SNT, two tables) from two systems ingested into
one canonical folder with the documented example mappings, each line remembering its source; the model
trains on the folder."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.data.io import read_folder
from roundabout.simulation.config import SimulationConfig
from roundabout.simulation.world import simulate_world

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
DIRECTION = {"import": "ИМ", "export": "ЭК", "transit": "ТТ"}
DT_TRANSPORT = {"sea": "10", "rail": "20", "road": "30", "air": "40", "post": "50", "pipeline": "71"}
SNT_TRANSPORT = {
    "road": "AUTO",
    "rail": "RAIL",
    "air": "AIR",
    "sea": "SEA",
    "post": "POST",
    "pipeline": "PIPE",
}


def _comma(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else repr(float(v)).replace(".", ","))


def _export(lines: pd.DataFrame, inspections: pd.DataFrame, root: Path) -> dict[str, dict[str, Path]]:
    """The world's lines as the two systems would hand them over, in the example mappings' shapes."""
    root.mkdir()
    item_no = lines["line_id"].str.rsplit("/", n=1).str[1]
    dt, snt = lines[lines["document_kind"] == "DT"], lines[lines["document_kind"] == "SNT"]
    checked = inspections.set_index("line_id")
    docs = dt.drop_duplicates("document_id")
    first_check = (
        checked.join(dt.set_index("line_id")["document_id"], how="inner")
        .groupby("document_id")["inspected_on"]
        .min()
    )
    header = pd.DataFrame(
        {
            "DT_NUMBER": docs["document_id"],
            "DECL_TYPE": docs["direction"].map(DIRECTION),
            "PROC": docs["procedure"],
            "DT_DATE": docs["date"].dt.strftime("%d.%m.%Y"),
            "BIN": docs["trader_id"],
            "ORG_NAME": docs["trader_name"],
            "DISPATCH": docs["dispatch_country"],
            "DESTINATION": docs["destination_country"],
            "TRADE_CTRY": docs["trading_country"],
            "TRANSPORT": docs["transport_mode"].map(DT_TRANSPORT),
            "POST": docs["customs_office"],
            "CHECK_DATE": docs["document_id"].map(first_check).dt.strftime("%d.%m.%Y"),
        }
    )
    result = checked["outcome"].reindex(dt["line_id"]).map({"violation": "1", "clean": "0"}).to_numpy()
    items = pd.DataFrame(
        {
            "DT_NUMBER": dt["document_id"],
            "ITEM_NO": item_no[dt.index],
            "TNVED": dt["hs_code"],
            "GOODS_DESCR": dt["description"],
            "ORIGIN": dt["origin_country"],
            "INVOICE_VALUE": _comma(dt["value_usd"]),
            "CURRENCY": "USD",
            "NETTO": _comma(dt["net_mass_kg"]),
            "BRUTTO": _comma(dt["gross_mass_kg"]),
            "ADD_QTY": _comma(dt["quantity"]),
            "CHECK_RESULT": result,
        }
    )
    consignor = pd.DataFrame(
        {
            "DT_NUMBER": docs["document_id"],
            "ROLE": "CONSIGNOR",
            "NAME": docs["counterparty_name"],
            "COUNTRY": docs["counterparty_country"],
            "BIN": "",
        }
    )
    brokers = docs[docs["declarant_id"].notna()]
    declarant = pd.DataFrame(
        {
            "DT_NUMBER": brokers["document_id"],
            "ROLE": "DECLARANT",
            "NAME": "broker",
            "COUNTRY": "KZ",
            "BIN": brokers["declarant_id"],
        }
    )
    waybills = snt.drop_duplicates("document_id")
    snt_files = {
        "waybill": pd.DataFrame(
            {
                "SNT_ID": waybills["document_id"],
                "KIND": waybills["direction"].str.upper(),
                "SHIP_DATE": waybills["date"].dt.strftime("%Y-%m-%d"),
                "SENDER_BIN": waybills["trader_id"],
                "SENDER": waybills["trader_name"],
                "RECEIVER": waybills["counterparty_name"],
                "RECEIVER_COUNTRY": waybills["counterparty_country"],
                "FROM_COUNTRY": waybills["dispatch_country"],
                "TO_COUNTRY": waybills["destination_country"],
                "TRANSPORT": waybills["transport_mode"].map(SNT_TRANSPORT),
            }
        ),
        "positions": pd.DataFrame(
            {
                "SNT_ID": snt["document_id"],
                "POS": item_no[snt.index],
                "TNVED": snt["hs_code"],
                "NAME": snt["description"],
                "ORIGIN": snt["origin_country"],
                "AMOUNT": snt["value_usd"],
                "CURRENCY": "USD",
                "NET_KG": snt["net_mass_kg"],
                "GROSS_KG": snt["gross_mass_kg"],
                "QTY": snt["quantity"],
            }
        ),
    }
    dt_files = {"header": header, "items": items, "parties": pd.concat([consignor, declarant])}
    paths: dict[str, dict[str, Path]] = {"dt": {}, "snt": {}}
    for system, files, sep in (("dt", dt_files, ";"), ("snt", snt_files, ",")):
        for name, frame in files.items():
            paths[system][name] = root / f"{system}_{name}.csv"
            frame.to_csv(paths[system][name], sep=sep, index=False)
    return paths


@pytest.mark.slow
def test_declarations_and_waybills_in_one_folder_then_a_model_trains_on_it(tmp_path: Path) -> None:
    world = simulate_world(SimulationConfig(n_lines=10_000, seed=9)).data
    paths = _export(world.lines, world.inspections, tmp_path / "exports")
    runner, out = CliRunner(), tmp_path / "canonical"
    for system, mapping, append in (("dt", "astana1_dt.yaml", []), ("snt", "isesf_snt.yaml", ["--append"])):
        args = ["ingest", "--mapping", str(EXAMPLES / mapping), "--out", str(out), *append]
        for name, path in paths[system].items():
            args += ["--source", f"{name}={path}"]
        done = runner.invoke(app, args)
        assert done.exit_code == 0, done.output
    data = read_folder(out)
    assert len(data.lines) == len(world.lines)  # every line of both systems, none rejected
    assert (
        data.lines.groupby("document_kind").size().to_dict()
        == world.lines.groupby("document_kind").size().to_dict()
    )
    merged = data.lines.set_index("line_id").loc[world.lines["line_id"]]
    assert np.allclose(merged["value_usd"].to_numpy(), world.lines["value_usd"].to_numpy())
    sources = pd.read_parquet(out / "sources.parquet")
    assert sources.groupby("mapping").size().to_dict() == {
        "astana1-dt-tables": int((world.lines["document_kind"] == "DT").sum()),
        "isesf-snt-tables": int((world.lines["document_kind"] == "SNT").sum()),
    }
    assert len(data.inspections) > 0
    (tmp_path / "train.yaml").write_text("split: {valid_fraction: 0.35}\n")  # a small world: room for labels
    trained = runner.invoke(
        app, ["train", "--data", str(out), "--budget", "5", "--config", str(tmp_path / "train.yaml")]
    )
    assert trained.exit_code == 0, trained.output
