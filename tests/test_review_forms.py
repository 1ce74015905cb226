"""The review page's forms (R31): notes, prevention actions, effect checks and re-fixes, the
survey's answers; who may write what; refusals keep the input and answer 4xx in ja and en."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import service as incidents
from anshin.notify import tokens
from anshin.review import feedback
from anshin.review.models import Drill, EffectCheck, PreventionAction, ReviewNote
from anshin.team.models import User
from inquiry_world import incident, inquiry
from test_console_support import USERS, client_for, count, database, login, seed, text_of


@pytest.fixture
def ref(settings: Settings) -> str:
    seed(settings)
    with database(settings) as session:
        on = incident(session, settings)
        session.commit()
        return on.reference


def _today(settings: Settings) -> dt.date:
    return utcnow().astimezone(ZoneInfo(settings.timezone)).date()


def _user_id(settings: Settings, role: str) -> int:
    with database(settings) as session:
        found = session.scalar(select(User.id).where(User.email == USERS[role][0]))
        assert found is not None
        return found


def test_an_operator_adds_notes_grouped_by_kind_and_a_refused_note_keeps_its_text(
    settings: Settings, ref: str
) -> None:
    base = f"/console/incidents/{ref}/review"
    with client_for(settings) as client:
        csrf = login(client, "operator")
        done = client.post(
            base + "/notes",
            data={"csrf_token": csrf, "kind": "went_well", "body": "第一報を7分で出せた"},
        )
        assert done.status_code == 303 and done.headers["location"].endswith("#notes")
        refused = client.post(
            base + "/notes",
            data={"csrf_token": csrf, "kind": "cause", "body": "監視の閾値が高すぎた"},
        )
        assert refused.status_code == 422
        text = text_of(refused.text)
        assert "原因を分類してください" in text and "監視の閾値が高すぎた" in refused.text
        assert 'value="cause" selected' in refused.text
        english = client.post(
            base + "/notes?lang=en",
            data={"csrf_token": csrf, "kind": "cause", "body": "x"},
            headers={"Accept-Language": "en"},
        )
        assert english.status_code == 422
        assert "Classify the cause: person, process or system." in english.text
        client.post(
            base + "/notes",
            data={
                "csrf_token": csrf,
                "kind": "cause",
                "cause_class": "system",
                "body": "監視の閾値が高すぎた",
            },
        )
        page = client.get(base + "?lang=ja")
        assert page.status_code == 200
        notes = page.text.split('id="notes"')[1].split("</section>")[0]
        assert "第一報を7分で出せた" in notes.split("notes-went_well")[1].split("</ul>")[0]
        cause = notes.split("notes-cause")[1].split("</ul>")[0]
        assert "システム" in cause and "監視の閾値が高すぎた" in cause
        # An operator sees no action form and may not post one.
        assert 'action="' + base + '/actions"' not in page.text
        forbidden = client.post(
            base + "/actions",
            data={"csrf_token": csrf, "title": "x", "owner": "1", "due_on": "2030-01-01"},
        )
        assert forbidden.status_code == 403
    assert count(settings, ReviewNote) == 2
    assert count(settings, PreventionAction) == 0


def test_a_senior_adds_an_action_marks_it_done_checks_it_and_adds_a_refix(
    settings: Settings, ref: str
) -> None:
    base = f"/console/incidents/{ref}/review"
    owner = _user_id(settings, "operator")
    today = _today(settings)
    due = (today + dt.timedelta(days=14)).isoformat()
    with client_for(settings) as client:
        csrf = login(client, "senior")
        # Refused: a past due date; the title and owner stay as typed.
        past = client.post(
            base + "/actions",
            data={
                "csrf_token": csrf,
                "title": "証明書の期限を監視する",
                "owner": str(owner),
                "due_on": (today - dt.timedelta(days=1)).isoformat(),
            },
        )
        assert past.status_code == 422
        assert "期限が過去の日付です。" in text_of(past.text)
        assert 'value="証明書の期限を監視する"' in past.text
        assert f'value="{owner}" selected' in past.text
        for bad in ("２０３０-01-01", "2030-02-30", "9999-12-31", "tomorrow"):
            odd = client.post(
                base + "/actions",
                data={"csrf_token": csrf, "title": "x", "owner": str(owner), "due_on": bad},
            )
            assert odd.status_code == 422, bad
        nobody = client.post(
            base + "/actions",
            data={"csrf_token": csrf, "title": "x", "owner": "999999", "due_on": due},
        )
        assert nobody.status_code == 422 and "一覧から選んでください" in text_of(nobody.text)
        added = client.post(
            base + "/actions",
            data={
                "csrf_token": csrf,
                "title": "証明書の期限を監視する",
                "owner": str(owner),
                "due_on": due,
            },
        )
        assert added.status_code == 303
        with database(settings) as session:
            action_id = session.scalars(select(PreventionAction.id)).one()
        act = f"{base}/actions/{action_id}"
        # A check before the action is done is a conflict, shown beside the action.
        early = client.post(
            act + "/check",
            data={"csrf_token": csrf, "checked_on": today.isoformat(), "result": "effective"},
        )
        assert early.status_code == 409
        assert client.post(act + "/done", data={"csrf_token": csrf}).status_code == 303
        again = client.post(act + "/done", data={"csrf_token": csrf})
        assert again.status_code == 409
        future = client.post(
            act + "/check",
            data={
                "csrf_token": csrf,
                "checked_on": (today + dt.timedelta(days=2)).isoformat(),
                "result": "effective",
            },
        )
        assert future.status_code == 422 and "未来" in text_of(future.text)
        no_result = client.post(
            act + "/check", data={"csrf_token": csrf, "checked_on": today.isoformat()}
        )
        assert no_result.status_code == 422
        checked = client.post(
            act + "/check",
            data={
                "csrf_token": csrf,
                "checked_on": today.isoformat(),
                "result": "not_effective",
                "note": "翌週も期限切れの警告が出なかった",
            },
        )
        assert checked.status_code == 303
        refix = client.post(
            act + "/refix",
            data={
                "csrf_token": csrf,
                "title": "監視を二重にする",
                "owner": str(owner),
                "due_on": due,
            },
        )
        assert refix.status_code == 303
        page = client.get(base)
        actions_html = page.text.split('id="actions"')[1]
        assert "効果なし" in actions_html and "翌週も期限切れの警告が出なかった" in actions_html
        assert f'href="#action-{action_id}"' in actions_html  # the re-fix names the failed one
        # Another incident's action id is not found under this incident.
        other = client.post(
            f"/console/incidents/INC-1999-0001/review/actions/{action_id}/done",
            data={"csrf_token": csrf},
        )
        assert other.status_code == 404
    with database(settings) as session:
        assert session.scalar(select(EffectCheck.effective)) is False
        states = sorted(session.scalars(select(PreventionAction.state)))
        assert states == ["not_effective", "open"]


def test_overdue_actions_are_red_and_the_survey_answers_are_listed_newest_first(
    settings: Settings, ref: str
) -> None:
    with database(settings) as session:
        on = incidents.get(session, ref)
        owner = session.scalar(select(User).where(User.email == USERS["senior"][0]))
        assert owner is not None
        late = PreventionAction(
            incident_id=on.id,
            title="手順書を更新する",
            owner_id=owner.id,
            owner_name=owner.name,
            due_on=_today(settings) - dt.timedelta(days=3),
            state="open",
            created_by="test",
        )
        session.add(late)
        for n, (score, comment) in enumerate(((2, "遅かった"), (5, ""), (4, "丁寧でした"))):
            token = tokens.survey_token(settings, on.id, f"sub:{n + 1}")
            feedback.answer(session, settings, token, score=score, comment=comment, locale="ja")
            session.flush()
        session.commit()
    with client_for(settings) as client:
        login(client, "operator")
        page = client.get(f"/console/incidents/{ref}/review")
    assert page.status_code == 200
    assert 'class="prevention overdue"' in page.text and "（期限切れ）" in text_of(page.text)
    survey = text_of(page.text.split('id="survey"')[1].split("</section>")[0])
    assert "回答 3件" in survey and "平均 3.7 / 5" in survey
    assert survey.index("丁寧でした") < survey.index("遅かった")


def test_supervisors_and_admins_see_make_a_drill_on_an_inquiry(
    settings: Settings, ref: str
) -> None:
    with database(settings) as session:
        question = inquiry(session, settings, incidents.get(session, ref))
        session.commit()
        qref = question.reference
    link = f'href="/console/drills/new?from={qref}"'
    for role, shown in (
        ("operator", False),
        ("senior", False),
        ("supervisor", True),
        ("admin", True),
    ):
        with client_for(settings) as client:
            login(client, role)
            page = client.get(f"/console/inquiries/{qref}")
            assert page.status_code == 200
            assert (link in page.text) is shown, role
            if shown:
                assert "訓練を作る" in text_of(page.text)
                draft = client.get(f"/console/drills/new?from={qref}")
                assert draft.status_code == 200 and "山田" not in draft.text


def test_a_drill_answer_with_findings_shows_them_beside_the_reply(
    settings: Settings, ref: str
) -> None:
    with database(settings) as session:
        drill = Drill(customer_text="ログインできません", created_by="test")
        session.add(drill)
        session.commit()
        drill_id = drill.id
    with client_for(settings) as client:
        csrf = login(client, "operator")
        answered = client.post(
            f"/console/drills/{drill_id}/attempts",
            data={"csrf_token": csrf, "reply": "たぶん1時間後には直ると思います。すみません。"},
        )
    assert answered.status_code == 200
    feedback_part = text_of(answered.text.split('id="feedback"')[1])
    assert "推測" in feedback_part and "たぶん" in feedback_part
    # The supervisor reads the same findings in the trainee's history (stored, then shown).
    trainee = _user_id(settings, "operator")
    with client_for(settings) as client:
        login(client, "supervisor")
        history = client.get(f"/console/drills/trainees?trainee={trainee}")
    assert history.status_code == 200
    assert "推測" in text_of(history.text) and "たぶん1時間後" in history.text


def test_a_review_note_is_saved_as_an_article_linked_back(settings: Settings, ref: str) -> None:
    """R32: "save as article" on a review note opens the article form filled and linked back."""
    base = f"/console/incidents/{ref}/review"
    body = "障害の第一報は、原因が分からなくても15分以内に出す"
    with client_for(settings) as client:
        csrf = login(client, "senior")
        client.post(base + "/notes", data={"csrf_token": csrf, "kind": "went_well", "body": body})
        page = client.get(base)
        with database(settings) as session:
            note = session.scalars(select(ReviewNote)).one()
            incident_id = note.incident_id
        assert f'name="source" value="review_note:{note.id}"' in page.text
        form = client.post(
            "/console/kb/new",
            data={
                "csrf_token": csrf,
                "source": [f"review_note:{note.id}", f"incident:{incident_id}"],
                "kind": "explanation",
                "locale": "ja",
                "title": body,
                "body": body,
            },
        )
        assert form.status_code == 200 and body in form.text
        saved = client.post(
            "/console/kb",
            data={
                "csrf_token": csrf,
                "source": [f"review_note:{note.id}", f"incident:{incident_id}"],
                "key": "first-notice-15min",
                "kind": "explanation",
                "locale": "ja",
                "title": "第一報は15分以内",
                "body": body,
                "state": "draft",
            },
        )
        assert saved.status_code == 303, saved.text
        article = client.get("/console/kb/first-notice-15min")
        assert f"/console/incidents/{ref}/review#note-{note.id}" in article.text
