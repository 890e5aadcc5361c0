"""The loop simulation: months of deployment on a simulated world, each selection policy choosing its
inspections, the simulator answering with outcomes, the model retrained on schedule through the real
training code and registry, to compare greedy selection with exploration (`roundabout simulate-loop`).

`config.py` holds its options and the policies compared, `run.py` the loop, `measure.py` what it measures
per period and retraining, `report.py` the summary, the curves and the MLflow run.
"""
