"""The canonical data model and how data gets into it.

`schema` names every field of a goods line, an inspection outcome and the simulator's ground truth (the
public contract); `validation` checks every row against it and reports rejects by row, field and reason;
`mapping` describes another administration's columns and codes; `ingest` applies a mapping to a CSV or
Parquet file; `io` reads and writes a canonical data folder (`lines.parquet`, `inspections.parquet`,
`truth.parquet`, `manifest.json`); `history` stacks folders into one history and places a held-out folder
after its history without its own outcomes.
"""
