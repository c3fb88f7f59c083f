from pathlib import Path
def test_spike(page, practitioner):
    from tests.browser.conftest import sign_in
    sign_in(page, "practitioner")
    page.goto("/referrals/new/")
    Path("/tmp/create.html").write_text(page.content())
    page.get_by_role("button", name="Save referral").click()
    Path("/tmp/create_err.html").write_text(page.content())
