"""The scoring API: a FastAPI service that customs risk systems call for every goods line.

`app.create_app` builds the service (routers, lifespan warm-up, alias following); `schemas` holds the
request and response models (the public contract), derived from the canonical data model; `keys` checks
hashed API keys and scopes; `live_model` keeps the champion model loaded and swaps in a new version only after
it loads and scores a smoke example; `audit` stores every decision; `metrics` exposes Prometheus counters;
`scoring` runs features, model and audit for a batch of lines.
"""
