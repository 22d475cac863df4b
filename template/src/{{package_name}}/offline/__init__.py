"""Offline `local/...` models of this repo's features (squadkit reads `LOCAL_MODELS`).

Each module here may define `LOCAL_MODELS = {"name-v1": answer}`: squadkit serves
`answer(messages) -> dict` as the `local/name-v1` deployment of `config/models.yaml`, so
tests, CI and demos answer with no key. `triage.py` holds the triage feature's models; a
new feature adds its own module (docs/adding-a-feature.md).
"""
