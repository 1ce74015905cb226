"""Train the triage classifier offline and write src/anshin/inquiries/data/triage_model.npz.

    .venv/bin/python bench/build_triage_data.py   # written.txt → inquiries.jsonl
    .venv/bin/python bench/train_triage.py        # fit on the train split, report the held-out one

Multinomial logistic regression (numpy, full-batch Adam, L2) per field —
intent, temperature, harassment — in two variants: *fast* on the hashed words
and cue flags, *full* with the sentence encoder's vector as well
(``anshin.inquiries.triage_model``). Only lines whose ``split`` is ``train``
are fitted; the thresholds (when to consult the encoder, how much word
evidence links an incident) are chosen on the training split too. Seeds and
iteration counts are fixed: the same data gives the same weights.

It prints per-field accuracy on the held-out split, measured end to end
through ``Triager`` exactly as ``anshin triage`` runs (``--report`` writes it
into bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from anshin.inquiries import triage_encoder, triage_model  # noqa: E402
from anshin.inquiries.triage import IncidentProfile, Triager  # noqa: E402
from anshin.inquiries.triage_features import read  # noqa: E402

DATA = ROOT / "tests" / "data" / "inquiries" / "inquiries.jsonl"
OUT = ROOT / "src" / "anshin" / "inquiries" / "data" / triage_model.MODEL_FILE
VERSION = "1"


def load_rows(path: Path = DATA) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def fit(
    x: Any, y: Any, classes: int, *, l2: float, weights: Any = None, steps: int = 400
) -> tuple[Any, Any]:
    """Softmax regression by full-batch Adam; deterministic (zero start, fixed steps).

    Only the columns some training line uses are fitted (the hashed space is
    mostly empty); the others keep weight zero.
    """
    full_width = x.shape[1]
    active = np.flatnonzero(np.abs(x).sum(axis=0) > 0)
    x = np.ascontiguousarray(x[:, active], dtype=np.float64)
    n, d = x.shape
    w = np.zeros((d, classes), dtype=np.float64)
    b = np.zeros(classes, dtype=np.float64)
    onehot = np.eye(classes)[y]
    sw = np.ones(n) if weights is None else weights
    sw = sw / sw.sum()
    mw, vw, mb, vb = (np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b))
    lr, beta1, beta2, eps = 0.05, 0.9, 0.999, 1e-8
    for step in range(1, steps + 1):
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) * sw[:, None]
        gw = x.T @ g + l2 * w
        gb = g.sum(axis=0)
        for param, grad, m, v in ((w, gw, mw, vw), (b, gb, mb, vb)):
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            param -= lr * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + eps)
    out = np.zeros((full_width, classes), dtype=np.float32)
    out[active] = w
    return out, b.astype(np.float32)


def labels(rows: list[dict[str, Any]], head: str) -> Any:
    classes = triage_model.HEADS[head]
    values = []
    for row in rows:
        e = row["expected"]
        value = {"intent": e["intent"], "temperature": str(e["temperature"])}.get(
            head, "yes" if e["harassment"] else "no"
        )
        values.append(classes.index(value))
    return np.array(values)


def profiles_of(row: dict[str, Any]) -> list[IncidentProfile]:
    return [IncidentProfile.from_dict(p) for p in row["incidents"]]


def train(rows: list[dict[str, Any]]) -> dict[str, Any]:
    feats = [read(r["text"]) for r in rows]
    cue_sets = [f.cues for f in feats]
    vectors = triage_encoder.Encoder.encode([f.clean or " " for f in feats])
    arrays: dict[str, Any] = {}
    for variant, emb in (("fast", None), ("full", vectors)):
        x = triage_model.design(feats, cue_sets, emb)
        for head, classes in triage_model.HEADS.items():
            y = labels(rows, head)
            counts = np.bincount(y, minlength=len(classes)).astype(float)
            weights = (len(y) / (len(classes) * np.maximum(counts, 1)))[y]
            w, b = fit(x, y, len(classes), l2=1e-4, weights=weights)
            arrays[f"{head}_{variant}_w"] = w.astype(np.float16)
            arrays[f"{head}_{variant}_b"] = b
    return arrays


def evaluate(
    rows: list[dict[str, Any]], model: triage_model.Model, *, encoder: bool = True
) -> dict[str, Any]:
    """Per-field accuracy (and harassment precision/recall/F1) through ``Triager``."""
    hits = {"incident": 0, "intent": 0, "level": 0, "temperature": 0, "harassment": 0}
    tp = fp = fn = 0
    used = 0
    misses: list[str] = []
    for row in rows:
        triager = Triager(profiles_of(row), model=model, use_encoder=encoder)
        got = triager.one(row["text"], row["customer_tier"])
        e = row["expected"]
        used += got.used_encoder
        answer = {
            "incident": got.incident,
            "intent": got.intent,
            "level": got.level,
            "temperature": got.temperature,
            "harassment": got.harassment,
        }
        for key in hits:
            if answer[key] == e[key]:
                hits[key] += 1
            elif key in ("incident", "intent", "harassment"):
                misses.append(
                    f"{row['id']} {key}: want {e[key]} got {answer[key]} | {row['text'][:50]}"
                )
        tp += got.harassment and e["harassment"]
        fp += got.harassment and not e["harassment"]
        fn += (not got.harassment) and e["harassment"]
    n = len(rows)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": n,
        **{k: v / n for k, v in hits.items()},
        "harassment_precision": precision,
        "harassment_recall": recall,
        "harassment_f1": f1,
        "encoder_share": used / n,
        "misses": misses,
    }


FIELDS = ("incident", "intent", "level", "temperature", "harassment_f1")
TARGETS = {"incident": "0.95", "intent": "0.85", "level": "0.90", "harassment_f1": "0.90"}


def report(train_rows: list[dict[str, Any]], test_rows: list[dict[str, Any]]) -> None:
    """Held-out accuracy of the shipped model, both modes, into bench/RESULTS.md."""
    from common import markdown_table, today, write_section

    model = triage_model.load()
    auto = evaluate(test_rows, model)
    words = evaluate(test_rows, model, encoder=False)
    rows = [
        [field, TARGETS.get(field, "-"), f"{auto[field]:.3f}", f"{words[field]:.3f}"]
        for field in FIELDS
    ]
    rows.append(
        [
            "harassment precision / recall",
            "-",
            f"{auto['harassment_precision']:.2f} / {auto['harassment_recall']:.2f}",
            f"{words['harassment_precision']:.2f} / {words['harassment_recall']:.2f}",
        ]
    )
    rows.append(["lines the encoder was consulted on", "-", f"{auto['encoder_share']:.1%}", "0%"])
    body = "\n".join(
        [
            "## Triage accuracy on the held-out split (issue 8 §3)",
            "",
            f"Measured {today()}: {len(test_rows)} held-out lines of "
            f"tests/data/inquiries/inquiries.jsonl (never trained on; {len(train_rows)} "
            "training lines). Command: `.venv/bin/python bench/train_triage.py --evaluate-only` "
            "(the weights come from `bench/train_triage.py`).",
            "",
            markdown_table(
                ["field", "target", "--encoder auto (default)", "--encoder never"], rows
            ),
            "",
            "Temperature has no target; it is the field the set agrees least on. Misses "
            "are listed by `bench/train_triage.py --evaluate-only --show-misses`.",
        ]
    )
    print(body)
    if "--show-misses" in sys.argv:
        print("\n".join(auto["misses"]))
    write_section("triage-accuracy", body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--confident", type=float, default=0.55)
    parser.add_argument("--lexical", type=float, default=0.5)
    parser.add_argument("--cosine", type=float, default=0.3)
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument(
        "--evaluate-only",
        action="store_true",
        help="keep the shipped weights; measure them and write bench/RESULTS.md",
    )
    args = parser.parse_args()
    rows = load_rows()
    train_rows = [r for r in rows if r["split"] == "train"]
    test_rows = [r for r in rows if r["split"] == "test"]
    if args.evaluate_only:
        report(train_rows, test_rows)
        return
    arrays = train(train_rows)
    arrays["thresholds"] = np.array([args.confident, args.lexical, args.cosine], dtype=np.float32)
    arrays["version"] = np.array(VERSION)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    model = triage_model.Model(dict(arrays))
    print(
        f"trained on {len(train_rows)} lines; wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KiB)"  # noqa: E501
    )
    for name, subset in (("train", train_rows), ("held-out", test_rows)):
        result = evaluate(subset, model)
        misses = result.pop("misses")
        print(
            name,
            json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}),
        )
        if args.show_misses and name == "held-out":
            print("\n".join(misses))
    fast = evaluate(test_rows, model, encoder=False)
    fast.pop("misses")
    print(
        "held-out, words only",
        json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in fast.items()}),
    )


if __name__ == "__main__":
    main()
