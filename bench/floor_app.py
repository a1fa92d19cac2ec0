"""The intake floor: a bare Flask app that parses the same JSON and answers 201, served by
gunicorn with the project's gunicorn.conf.py, so the only difference is Defuse itself."""

from __future__ import annotations

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/api/v1/reports")
def create_report():  # type: ignore[no-untyped-def]
    body = request.get_json()
    return jsonify({"id": 1, "receipt": "floor", "status": "new", "fields": len(body)}), 201


@app.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return jsonify({"status": "ok"})
