"""A URLconf with no patterns, for tests that swap the URLconf."""

urlpatterns: list = []
