"""An incident's reports in a real browser (issue 10 §6; R7, R8, R9).

A senior opens a resolved incident's record, follows the Report panel's link
to the reports page, writes what we are changing and our reflection, has
it checked without publishing (a reflection blaming the customer is an error),
reads the draft as it will be published, ticks the box and publishes; then saves
the important customers' next-day follow-ups and downloads both reports as
PDF. Page 1 of each PDF (and the internal report's chart page) is turned into
a PNG with pdftoppm, for docs/review-report.md.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from browser_support import LiveServer
from playwright.sync_api import expect
from test_console_browser import shot, sign_in

from anshin.db import utcnow
from report_world import CHANGES_JA, REFLECTION_JA, resolved

pytestmark = pytest.mark.browser


def _pdf_page(pdf: Path, page: int, target: Path) -> None:
    """One PDF page as a PNG (pdftoppm, poppler-utils), the way a reader sees it."""
    stem = target.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", str(page), "-l", str(page), "-singlefile",
         str(pdf), str(stem)],
        check=True,
    )  # fmt: skip
    assert target.stat().st_size > 10_000


def test_write_publish_and_download_the_reports(
    live_server: LiveServer, context: Any, shots: Path, tmp_path: Path
) -> None:
    settings = live_server.settings
    with live_server.session() as session:
        t0 = utcnow().replace(microsecond=0) - dt.timedelta(hours=5)
        ref = resolved(session, settings, t0).reference
    page = context.new_page()
    sign_in(page, live_server, "senior")
    page.goto(f"{live_server.url}/console/incidents/{ref}")
    page.get_by_role("link", name="報告書を作成・チェック・ダウンロードする").click()
    expect(page.locator("h1")).to_contain_text("報告書")
    page.locator("#changes_ja").fill(CHANGES_JA)
    # A reflection that blames the customer: the check, run without publishing, says so.
    page.locator("#reflection_ja").fill("お客様の操作ミスが原因です。")
    page.get_by_role("button", name="公開せずにチェックする").click()
    expect(page.locator("#check .finding-error").first).to_be_visible()
    expect(page.locator("#customer-report")).to_contain_text("お客様の操作ミスが原因です。")
    shot(page, shots, "review-report-check.png")
    page.locator("#reflection_ja").fill(REFLECTION_JA)
    page.get_by_role("button", name="チェックして報告書を公開する").click()
    # Unticked: refused beside the box, what was typed kept.
    expect(page.locator("#err-confirm_report")).to_be_visible()
    expect(page.locator("#changes_ja")).to_have_value(CHANGES_JA)
    expect(page.locator("#customer-report")).to_contain_text("■ 再発防止策")
    shot(page, shots, "review-report-draft.png")
    page.locator("#customer-report input[name=confirm]").check()
    page.get_by_role("button", name="チェックして報告書を公開する").click()
    expect(page.locator(".flash")).to_have_text("報告書公開のお知らせを公開しました。")
    expect(page.locator("#customer-report")).to_contain_text(REFLECTION_JA)
    page.get_by_role("button", name="フォローアップのタスクを登録する（期限：明日10:00）").click()
    expect(page.locator(".flash")).to_have_text("フォローアップのタスクを登録しました：2件。")
    expect(page.locator("#followups")).to_contain_text("株式会社<大口>")
    shot(page, shots, "review-report-published.png")
    pdfs = {}
    for kind in ("customer", "internal"):
        with page.expect_download() as waiting:
            page.locator(f'a[href$="/review/export/{kind}/pdf"]').click()
        target = tmp_path / f"{kind}.pdf"
        waiting.value.save_as(target)
        assert target.read_bytes().startswith(b"%PDF")
        pdfs[kind] = target
    if shutil.which("pdftoppm"):
        _pdf_page(pdfs["customer"], 1, shots / "report-customer-page1.png")
        _pdf_page(pdfs["internal"], 1, shots / "report-internal-page1.png")
        _pdf_page(pdfs["internal"], 2, shots / "report-internal-charts.png")
