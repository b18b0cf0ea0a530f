"""The local AWS emulator: moto server with the fidelity fixes and persistence the local
stack needs (moto_server.py), started and stopped in the background (control.py)."""
