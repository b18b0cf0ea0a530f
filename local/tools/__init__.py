"""The local make targets besides `make run`: tflocal apply, outputs and destroy (deploy.py),
how to use the deployment and its password (info.py), `make logs` (logs.py), `make query`
(query.py), `make load` (load.py), `make verify` (verify.py), and a deployment on AWS for
`make verify|password ENV=dev|prod` (aws.py)."""
