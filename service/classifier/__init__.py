"""Escalation classifier: features, training, evaluation and checked loading.

- `train.train_model(...)` writes models/escalation/<version>/ (model.skops, metadata.json,
  MODEL_CARD.md, calibration.png) from models/data/train/*.jsonl.
- `load.load_model(path)` verifies checksum, scikit-learn version and allowed types, and
  returns an `EscalationModel` (the engine's RiskModel); `load.latest_model_dir(root)`.
- `evaluate.evaluate_file(path, assess)` / `format_report(result)` back
  `defuse model evaluate --data FILE`.

Nothing is imported here, so importing the package stays cheap.
"""
