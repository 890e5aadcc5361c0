"""The scoring API: a FastAPI service that customs risk systems call for every goods line.

`app.create_app` builds the service and is the only place it reads settings; `state` holds what a running
service has and the dependencies routes declare; `routers/` has one module per area of the API; `schemas`
the request and response models (the public contract); `errors` how every error is answered;
`middleware` the body limit and request metrics; `background` the alias follower and the store
checkpoints; `keys` hashed API keys and scopes; `live_model` keeps the champion loaded and swaps in a new
version only after it loads and scores a smoke example; `scoring` and `single_lines` run features, model
and decisions; `turns` makes store writes take turns; `metrics` the Prometheus counters.
"""
