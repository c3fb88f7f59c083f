"""axe-core audits of pages in the browser."""

from __future__ import annotations

from tests.browser.pages import (
    axe_violations,
    screenshot,
)


class Audit:
    def __init__(self, page):
        self.page = page
        self.reports: list[str] = []

    def __call__(self, name: str, *, shot: bool = False) -> None:
        """Check the page as it is now in the browser."""
        self.page.wait_for_load_state()
        if shot:
            screenshot(self.page, name)
        self.reports.append(axe_violations(self.page, name))

    def visit(
        self, name: str, url: str, *, status: int = 200, shot: bool = False, timeout: float | None = None
    ) -> None:
        response = self.page.goto(url, timeout=timeout)
        self._expect(name, response.status, status)
        self(name, shot=shot)

    def submit(self, name: str, button: str, *, status: int = 400) -> None:
        with self.page.expect_navigation() as navigation:
            self.page.get_by_role("button", name=button).click()
        self._expect(name, navigation.value.status, status)
        self(name)

    def _expect(self, name: str, got: int, expected: int) -> None:
        if got != expected:
            shown = self.page.locator("main").inner_text()[:1500] if got < 500 else self.page.content()[:1500]
            raise AssertionError(f"{name}: {self.page.url} answered {got}, not {expected}:\n{shown}")

    def assert_clean(self) -> None:
        found = [report for report in self.reports if report]
        assert not found, f"axe found violations on {len(found)} page(s):\n" + "\n".join(found)
