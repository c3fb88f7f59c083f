"""A refused request (400) gets the service's own page, not Django's bare one."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_bad_request_gets_the_service_error_page(client):
    response = client.get("/", HTTP_HOST="not-this-service.example")  # DisallowedHost: a 400
    assert response.status_code == 400
    body = response.content.decode()
    assert "Sorry, there is a problem with the service" in body
    assert "check whether it was saved" in body
    assert "Bad Request (400)" not in body
