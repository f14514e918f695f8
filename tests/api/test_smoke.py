def test_health_needs_no_token_and_no_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_created_task_can_be_read_back(alice):
    created = alice.create(title="  buy milk  ")
    response = alice.request("GET", f"/{created['id']}")
    assert response.status_code == 200
    assert response.json()["title"] == "buy milk"
