"""The function as Lambda runs it, behind its function URL: the HTTP server
(function_url.py), request <-> payload-2.0 event (adapter.py), the deployment package in
Python 3.12 processes under awslambdaric (artifact.py) fed by a local Runtime API
(runtime_api.py) with the deployed configuration (function_env.py), and the handler
settings taken from the shell (overrides.py)."""
