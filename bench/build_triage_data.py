"""Build tests/data/inquiries/inquiries.jsonl from the hand-labelled written.txt.

    .venv/bin/python bench/build_triage_data.py

Each labelled line names the topic it was written about (an incident kind, or
``other``/``none``). This script gives every line the open incidents it is
triaged against — several at once, chosen from the line's id so the file is
the same on every run — and, for about one line in eight, leaves the line's own
incident out of the open set: the expected incident is then null, as when a
customer writes about something we have no incident for. The expected level
is computed with ``anshin.inquiries.rules.level_for`` (the R22 table), the tier
is ``important`` for about a quarter of the lines.

``split`` is ``test`` (held out: the classifier never trains on it) when the
line's id hashes into the last fifth; ``train`` otherwise.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from anshin.inquiries.rules import level_for

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "inquiries"

# Pages the lines marked with these keys were derived from (paraphrased, never copied).
SOURCES = {
    "k1": "https://tofuhardboiled.com/entry/donnatokimohenkin/?amp=1",
    "k2": "http://enthusiasm.tokyo/kddi-2022-hosyou/",
    "k3": "https://notalwaysright.com/breaking-down-your-breakdown/110355/",
    "k4": "https://liquiditystocks.com/2021/11/11/the-margin-ive-given-them-thousands-of-dollars-over-the-last-15-years-how-one-woman-got-100-when-her-internet-went-down/",
    "k5": "https://dailytekk.com/3-ways-your-isp-may-empty-your-pockets-during-an-internet-outage-ahem-centurylink/",
    "k6": "https://mobileindustryreview.com/if-an-operator-suffers-a-critical-outage-should-they-refund-customers",
    "k7": "https://forum.infinityfree.com/t/read-first-outage-communication-rules/46444",
    "k8": "https://www.agaroot.jp/corporation/column/cushara-jirei/",
    "k9": "https://blackbeltlegal.com/newspicks%e3%82%b3%e3%83%a1%e3%83%b3%e3%83%88-%e6%9d%b1%e4%ba%ac%e9%83%bd%e3%80%8c%e3%82%ab%e3%82%b9%e3%83%8f%e3%83%a9%e3%80%8d%e9%98%b2%e6%ad%a2%e6%9d%a1%e4%be%8b%e5%88%b6%e5%ae%9a%e3%81%ab",
}

INCIDENTS: dict[str, dict[str, Any]] = {
    "login": {
        "reference": "INC-2026-0101",
        "title": "ログインできない障害 / Sign-in failures",
        "summary": (
            "一部のお客様が Web 管理画面とアプリにログインできません。"
            "認証サーバーの応答遅延が原因です。"
        ),
        "components": ["認証 (Login)", "管理画面 (Console)"],
        "updates": [
            "ログイン時にエラー AUTH-503 が表示される事象を調査しています。パスワードの再設定は不要です。",  # noqa: E501
            "Some customers cannot sign in; the login page shows error AUTH-503. We are investigating.",  # noqa: E501
        ],
        "workaround": "",
        "has_workaround": False,
    },
    "pay": {
        "reference": "INC-2026-0102",
        "title": "決済処理の遅延と二重請求 / Payment delays and duplicate charges",
        "summary": (
            "クレジットカード決済でエラーが発生し、一部のお支払いが二重に計上されています。"
        ),
        "components": ["決済 (Payments)", "請求 (Billing)"],
        "updates": [
            "カード決済の一部が失敗または二重請求となる事象を確認しました。重複分は取り消します。",
            "Card payments may fail or be charged twice. Duplicate charges will be reversed.",
        ],
        "workaround": "",
        "has_workaround": False,
    },
    "mail": {
        "reference": "INC-2026-0103",
        "title": "メール通知の配信遅延 / Email notification delays",
        "summary": "通知メールの配信が最大数時間遅れています。",
        "components": ["メール配信 (Email notifications)"],
        "updates": [
            "通知メールの送信キューが滞留しています。順次配信しています。",
            "Notification emails are delayed by up to several hours.",
        ],
        "workaround": "通知の内容は管理画面の「お知らせ一覧」で確認できます。",
        "has_workaround": True,
    },
    "api": {
        "reference": "INC-2026-0104",
        "title": "API のエラー率上昇 / Elevated API error rates",
        "summary": "REST API の一部のリクエストが HTTP 503 または 429 を返しています。",
        "components": ["REST API", "Webhook"],
        "updates": [
            "API のエラー率が上昇しています。連携やバッチ処理が失敗する場合があります。",
            "The API returns 503 and 429 errors for part of requests; integrations may time out.",
        ],
        "workaround": "リトライの間隔を 30 秒以上に延ばしてください。CSV での一括登録もご利用いただけます。",  # noqa: E501
        "has_workaround": True,
    },
    "app": {
        "reference": "INC-2026-0105",
        "title": "モバイルアプリが起動直後に終了する / Mobile app crashes on launch",
        "summary": "最新版の iOS / Android アプリが起動直後にクラッシュします。",
        "components": ["iOS アプリ", "Android アプリ"],
        "updates": [
            "アプリのバージョン 5.2.1 で起動時に強制終了する不具合を確認しました。修正版を準備しています。",  # noqa: E501
            "Version 5.2.1 of the mobile app crashes on launch; a fixed version is being prepared.",
        ],
        "workaround": "修正版の配信まで、ブラウザ版をご利用ください。",
        "has_workaround": True,
    },
    "files": {
        "reference": "INC-2026-0106",
        "title": "ファイルのアップロードに失敗する / File uploads failing",
        "summary": "ファイルストレージへのアップロードがエラーになります。保存済みのファイルは影響を受けていません。",  # noqa: E501
        "components": ["ファイルストレージ (Files)"],
        "updates": [
            "添付ファイルや画像のアップロードが失敗する事象を調査しています。",
            "Uploading files and attachments fails with an error. Stored files are not affected.",
        ],
        "workaround": "",
        "has_workaround": False,
    },
}
TOPICS = list(INCIDENTS)


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def split_of(line_id: str) -> str:
    """``test`` for the held-out fifth (by the id's hash), ``train`` otherwise."""
    return "test" if _hash("split:" + line_id) % 5 == 0 else "train"


def open_incidents(line_id: str, topic: str) -> list[str]:
    """The topics open when this line arrives: its own (mostly) and one to three others."""
    h = _hash("open:" + line_id)
    others = [t for t in TOPICS if t != topic]
    count = 1 + h % 3
    start = (h >> 8) % len(others)
    chosen = [others[(start + i) % len(others)] for i in range(count)]
    if topic in INCIDENTS and (h >> 16) % 8 != 0:
        chosen.insert((h >> 20) % (len(chosen) + 1), topic)
    return chosen


def parse(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        topic, intent, temperature, harassment, source, text = (
            part.strip() for part in raw.split("|", 5)
        )
        line_id = f"w{number:04d}"
        open_topics = open_incidents(line_id, topic)
        incident = INCIDENTS[topic]["reference"] if topic in open_topics else None
        has_workaround = bool(incident and INCIDENTS[topic]["has_workaround"])
        tier = "important" if _hash("tier:" + line_id) % 4 == 0 else "standard"
        flagged = harassment == "1"
        rows.append(
            {
                "id": line_id,
                "text": text,
                "customer_tier": tier,
                "received_at": "2026-06-01T10:00:00+09:00",
                "incidents": [INCIDENTS[t] for t in open_topics],
                "topic": topic,
                "expected": {
                    "incident": incident,
                    "intent": intent,
                    "level": level_for(
                        intent,
                        harassment=flagged,
                        tier=tier,
                        incident_has_workaround=has_workaround,
                    ),
                    "temperature": int(temperature),
                    "harassment": flagged,
                },
                "source": SOURCES[source] if source != "-" else "written",
                "split": split_of(line_id),
            }
        )
    return rows


def main() -> None:
    rows = parse(DATA / "written.txt")
    with (DATA / "inquiries.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    held = sum(1 for row in rows if row["split"] == "test")
    print(f"{len(rows)} lines, {held} held out")


if __name__ == "__main__":
    main()
