from django_q.conf import Conf


def test_healthz_reports_database_and_queue(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "task_queue": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_is_503_when_the_task_queue_is_unreachable(client, db, monkeypatch):
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:9/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["task_queue"] == "down"
    assert response.json()["database"] == "ok"
