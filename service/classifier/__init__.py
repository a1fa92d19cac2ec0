"""Escalation classifier: features, training, evaluation and checked loading.

- `train.train_model(...)` writes the candidate models/escalation/<version>/ (model.skops,
  metadata.json, MODEL_CARD.md, calibration.png) from models/data/real/train/*.jsonl.
- `registry`: which version is live (models/escalation/ACTIVE) and the promotion gate.
- `load.load_model(path)` verifies checksum, scikit-learn version and allowed types, and
  returns an `EscalationModel` (the engine's RiskModel).
- `evaluate.evaluate_file(path, assess)` / `format_report(result)` back
  `defuse model evaluate --data FILE`; `drift` backs `defuse model drift`.

Nothing is imported here, so importing the package stays cheap.
"""
