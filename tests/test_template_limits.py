"""Team-edited templates render with bounded work, memory and output (issue 7).

A preview with two nested loops ran 7 s and three would have run for hours.
Now a runaway template is refused with the reason — on the API's save and
preview, and on the console's save and preview — in the editor's language, and
nothing is saved. The assertions are on the error, never on a time.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from anshin.comms import models, rules
from anshin.config import Settings
from anshin.errors import InvalidInput
from test_comms_templates_web import _token
from test_console_support import client_for, count, login, seed, text_of

THREE_LOOPS = (
    '{% set s = "x" * 10000 %}'
    "{% for a in s %}{% for b in s %}{% for c in s %}{% endfor %}{% endfor %}{% endfor %}"
    "{{ title }}"
)
RUNAWAY = {
    "three nested loops": THREE_LOOPS,
    "two loops with work inside": (
        '{% set s = "x" * 10000 %}{% for a in s %}{% for b in s %}'
        "{% if a == b %}{% endif %}{% endfor %}{% endfor %}{{ title }}"
    ),
    "a recursive loop": (
        '{% set s = "x" * 10000 %}{% for a in s recursive %}'
        '{% if a == "x" %}{{ loop("y" * 10000) }}{% endif %}{% endfor %}{{ title }}'
    ),
}
TOO_BIG = {
    "a padded string": '{{ "x".ljust(1000000000) }}',
    "a centred string": "{{ title|center(1000000000) }}",
    "a %-format width": '{{ "%1000000000s" % title }}',
    "a format width": '{{ "{:>1000000000}".format(title) }}',
    "a format filter width": '{{ "%1000000000s"|format(title) }}',
}
WORK_JA = "テンプレートの処理量が多すぎて表示できません"
WORK_EN = "The template does too much work to render: at most 100,000 steps"


@pytest.mark.parametrize("source", RUNAWAY.values(), ids=RUNAWAY.keys())
def test_runaway_loops_are_refused_with_the_reason(source: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.render_text(source, {"title": "t"})
    assert caught.value.msgid.startswith("The template does too much work to render")
    assert caught.value.field == "body"


@pytest.mark.parametrize("source", TOO_BIG.values(), ids=TOO_BIG.keys())
def test_strings_no_message_can_be_are_refused_before_they_are_built(source: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.render_text(source, {"title": "t"})
    assert caught.value.msgid.startswith("The template tried something templates may not do")


def test_ordinary_templates_and_every_shipped_default_fit_the_budget() -> None:
    source = (
        "{% for c in title %}{{ c }}{% endfor %} {{ items|length }}"
        "{% for x in items %} {{ loop.index }}/{{ loop.length }} {{ x.name|upper }}"
        "{% if loop.last %}.{% endif %}{% endfor %} {{ '%5s'|format('a') }}"
    )
    items = [{"name": "a"}, {"name": "b"}]
    assert rules.render_text(source, {"title": "abc", "items": items}) == "abc 2 1/2 A 2/2 B.     a"
    # The budget is per render: many renders in a row each get all of it.
    for _ in range(3):
        rules.render_text("{% for c in s %}{% endfor %}ok", {"s": "x" * 60_000})


@pytest.fixture
def client(settings: Settings) -> TestClient:
    seed(settings)
    return client_for(settings)


def test_api_save_and_preview_refuse_a_runaway_template(
    client: TestClient, settings: Settings
) -> None:
    senior = _token(settings, "senior")
    saved = client.put(
        "/api/templates/update/ja/status_page",
        json={"body": THREE_LOOPS},
        headers={**senior, "Accept-Language": "ja"},
    )
    assert saved.status_code == 422
    assert saved.json()["error"]["field"] == "body"
    assert WORK_JA in saved.json()["error"]["message"]
    preview = client.post(
        "/api/templates/render",
        json={"kind": "update", "locale": "ja", "channel": "status_page", "body": THREE_LOOPS,
              "sample": "unconfirmed"},
        headers={**senior, "Accept-Language": "en"},
    )  # fmt: skip
    assert preview.status_code == 422
    assert preview.json()["error"]["message"].startswith(WORK_EN)
    assert count(settings, models.MessageTemplateVersion) == 0


def test_console_save_and_preview_refuse_a_runaway_template(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "senior")
    path = "/console/templates/update/ja/status_page"
    refused = client.post(path, data={"csrf_token": token, "body": THREE_LOOPS})
    assert refused.status_code == 422
    assert WORK_JA in text_of(refused.text)
    assert "{% for c in s %}" in text_of(refused.text)  # what was typed is kept
    preview = client.post(
        path + "/preview?lang=en",
        data={"body": THREE_LOOPS, "facts": "unconfirmed"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert preview.status_code == 200  # the preview pane shows the reason
    assert WORK_EN in text_of(preview.text)
    assert count(settings, models.MessageTemplateVersion) == 0
