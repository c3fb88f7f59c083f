"""Issue 11 (2): the Administrator is not a superuser.

The demo ``admin`` was a superuser: it could read every authenticator's secret, set anyone's
password, and give itself MASH roles and so open referrals. Now the Administrator role holds
exactly the permissions its job needs (reference data, user accounts and roles, the read-only
access log), nobody changes their own roles or privileges (in the admin or the service), a role
change and an administrator's change to someone's account are security events IG hears of,
and no ModelAdmin shows case data to anyone.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import SecurityEvent
from core.roles import GROUP_NAMES, ROLE_PERMISSIONS, Role
from referrals.models import ReferralDetail
from tests.conftest import sign_in_verified
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db

CANARY = "qzcnry"

#: Every model the admin may show, and why it holds no case data. A new registration fails
#: the test below until someone has looked at what it shows.
ADMIN_MODELS = {
    "auth.User": "accounts (staff, never children)",
    "auth.Group": "roles, read-only",
    "axes.AccessAttempt": "failed sign-ins: usernames and addresses",
    "axes.AccessLog": "sign-ins",
    "axes.AccessFailureLog": "failed sign-ins",
    "otp_totp.TOTPDevice": "authenticators (another change governs what it shows)",
    "otp_static.StaticDevice": "recovery codes (another change governs what it shows)",
    "core.AccessLogEntry": "who read what: references and field names, never values",
    "core.SecurityEvent": "account events: no case data by design",
    "core.RoleRequest": "role changes waiting for a second administrator: usernames and roles",
    "referrals.School": "reference data",
    "referrals.ReferralSource": "reference data",
    "referrals.Outcome": "reference data",
    "referrals.AbuseForm": "reference data",
    "referrals.RagLevel": "reference data",
    "referrals.DecisionAuthorisationRule": "configuration: which decisions need a manager's authorisation",
    "guidance.GuidanceDocument": "published guidance",
    "guidance.Criterion": "published guidance",
    "modelguidance.ModelGuidanceVersion": "the council's model guidance, read-only",
    "modelguidance.Acknowledgement": "schools' acknowledgements, read-only",
    "modelguidance.SafeguardingLead": "schools' safeguarding leads (staff, not children)",
    "scrutiny.Committee": "reference data",
    "scrutiny.Meeting": "reference data",
    "scrutiny.AgendaItem": "reference data (titles of public agenda items)",
    "contexts.PatternRule": "configuration: the pattern rules' thresholds and windows, read-only",
}


@pytest.fixture
def administrator(role_user):
    return role_user(Role.ADMINISTRATOR, username="ada", is_staff=True, email="ada@council.example")


@pytest.fixture
def admin_client(client, administrator):
    return sign_in_verified(client, administrator)


def _labels(permissions) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions}


def test_the_administrator_role_holds_exactly_its_jobs_permissions(administrator):
    group = Group.objects.get(name=GROUP_NAMES[Role.ADMINISTRATOR])
    held = _labels(group.permissions.select_related("content_type"))
    assert held == set(ROLE_PERMISSIONS[Role.ADMINISTRATOR])
    # Nothing on case data, grants, roles' permissions, authenticators or security events.
    for label in held:
        app_label, codename = label.split(".")
        assert app_label not in {"otp_totp", "otp_static", "reviews", "guardian"}, label
        model = codename.split("_", 1)[1]
        assert model not in {
            "referral",
            "referraldetail",
            "child",
            "referralchild",
            "referraldecision",
            "casenote",
            "referralusergrant",
            "referralgroupgrant",
            "cabinetreport",
            "appendix",
            "cabinetreportusergrant",
            "permission",
            "securityevent",
        }, label
        assert label not in {"auth.change_group", "auth.add_group", "auth.delete_user"}, label
    assert administrator.get_all_permissions() == held
    # Every other role works through the product's pages only.
    others = [GROUP_NAMES[role] for role in Role if role != Role.ADMINISTRATOR]
    assert not Permission.objects.filter(group__name__in=others).exists()


def test_no_demo_account_is_a_superuser():
    from devtools.management.commands.seed_demo import Command

    users = Command().ensure_users()
    assert not any(user.is_superuser for user in users.values())
    assert [name for name, user in users.items() if user.is_staff] == ["admin"]
    assert users["admin"].get_all_permissions() == set(ROLE_PERMISSIONS[Role.ADMINISTRATOR])


def test_the_administrator_opens_no_referral(admin_client):
    referral = ReferralFactory()
    assert admin_client.get(reverse("referrals:detail", args=[referral.pk])).status_code == 404
    assert admin_client.get("/admin/").status_code == 200


def _user_form(user, **extra) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
        "is_active": "on",
    }
    return data | extra


def _groups(*roles) -> list[int]:
    return list(Group.objects.filter(name__in=[GROUP_NAMES[r] for r in roles]).values_list("pk", flat=True))


def test_an_administrator_cannot_change_their_own_roles_or_privileges_in_the_admin(
    admin_client, administrator
):
    url = reverse("admin:auth_user_change", args=[administrator.pk])
    form = admin_client.get(url).context["adminform"].form
    for field in ("groups", "is_staff", "is_superuser", "user_permissions", "is_active"):
        assert field not in form.fields, field
    permission = Permission.objects.get(codename="view_referral")
    response = admin_client.post(
        url,
        _user_form(
            administrator,
            first_name="Ada2",
            is_staff="on",
            is_superuser="on",
            groups=_groups(Role.ADMINISTRATOR, Role.MASH_MANAGER, Role.MASH_PRACTITIONER),
            user_permissions=[permission.pk],
        ),
    )
    assert response.status_code == 302
    administrator.refresh_from_db()
    assert administrator.first_name == "Ada2"  # the rest of the form saved
    assert list(administrator.groups.values_list("name", flat=True)) == ["Administrator"]
    assert not administrator.is_superuser
    assert not administrator.user_permissions.exists()
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.ROLE_CHANGED).exists()


def test_the_role_service_refuses_a_change_to_ones_own_roles(administrator):
    from core.services import user_roles_change

    with pytest.raises(ValidationError, match="cannot change your own roles"):
        user_roles_change(
            actor=administrator,
            user=administrator,
            groups=Group.objects.filter(name=GROUP_NAMES[Role.MASH_MANAGER]),
        )
    assert list(administrator.groups.values_list("name", flat=True)) == ["Administrator"]


def test_a_role_change_in_the_admin_is_a_security_event_ig_hears_of(
    admin_client, administrator, role_user, django_capture_on_commit_callbacks
):
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig", email="ig@council.example")
    colleague = role_user(Role.REVIEWER, username="colleague", email="colleague@council.example")
    url = reverse("admin:auth_user_change", args=[colleague.pk])
    with django_capture_on_commit_callbacks(execute=True):
        # A role that opens nothing without someone else's grant changes at once (the others
        # wait for a second administrator: test_sock_puppet.py).
        response = admin_client.post(url, _user_form(colleague, groups=_groups(Role.REPORT_OFFICER)))
    assert response.status_code == 302
    assert list(colleague.groups.values_list("name", flat=True)) == ["Report officer"]
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.ROLE_CHANGED)
    assert (event.user, event.actor) == (colleague, administrator)
    assert "Report officer" in event.detail
    assert sorted(address for m in mail.outbox for address in m.to) == sorted([ig.email, colleague.email])


def test_sending_someone_a_password_link_is_a_security_event_and_the_link_goes_to_them_only(
    admin_client, administrator, role_user, django_capture_on_commit_callbacks
):
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig", email="ig@council.example")
    colleague = role_user(Role.REVIEWER, username="colleague", email="colleague@council.example")
    before = colleague.password
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:auth_user_changelist"),
            {"action": "send_password_link", "_selected_action": [colleague.pk]},
        )
    assert response.status_code == 302
    colleague.refresh_from_db()
    assert colleague.password == before  # nothing set by the administrator
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.PASSWORD_LINK_SENT)
    assert (event.user, event.actor) == (colleague, administrator)
    links = [m for m in mail.outbox if "/account/set-password/" in m.body]
    assert [m.to for m in links] == [[colleague.email]]
    assert all("/account/set-password/" not in m.body for m in mail.outbox if m.to != [colleague.email])
    assert ig.email in [address for m in mail.outbox for address in m.to]


def test_only_the_break_fix_superuser_makes_superusers_or_gives_per_user_permissions(
    admin_client, role_user, django_user_model
):
    colleague = role_user(Role.REVIEWER, username="colleague")
    url = reverse("admin:auth_user_change", args=[colleague.pk])
    form = admin_client.get(url).context["adminform"].form
    assert "is_superuser" not in form.fields
    assert "user_permissions" not in form.fields
    permission = Permission.objects.get(codename="view_referral")
    admin_client.post(url, _user_form(colleague, is_superuser="on", user_permissions=[permission.pk]))
    colleague.refresh_from_db()
    assert not colleague.is_superuser
    assert not colleague.user_permissions.exists()
    # A superuser's account is out of the Administrator's reach (no password to set, no roles).
    breakfix = django_user_model.objects.create_superuser(
        "breakfix", "bf@council.example", "x-long-password-1"
    )
    change = reverse("admin:auth_user_change", args=[breakfix.pk])
    assert admin_client.post(change, _user_form(breakfix, first_name="Taken")).status_code == 403
    breakfix.refresh_from_db()
    assert breakfix.first_name != "Taken"
    page = admin_client.get(reverse("admin:auth_user_password_change", args=[breakfix.pk]))
    assert page.status_code == 403


def test_no_administrator_widens_a_role_by_editing_its_permissions(admin_client):
    group = Group.objects.get(name=GROUP_NAMES[Role.ADMINISTRATOR])
    before = set(group.permissions.values_list("pk", flat=True))
    everything = list(Permission.objects.values_list("pk", flat=True))
    url = reverse("admin:auth_group_change", args=[group.pk])
    response = admin_client.post(url, {"name": group.name, "permissions": everything})
    assert response.status_code == 403
    assert set(group.permissions.values_list("pk", flat=True)) == before
    assert admin_client.post(reverse("admin:auth_group_add"), {"name": "Mine"}).status_code == 403


def test_every_model_admin_is_known_and_none_shows_case_data(client, administrator, admin_user):
    assert {model._meta.label for model in admin.site._registry} <= set(ADMIN_MODELS)
    referral = ReferralFactory()
    child = referral.children.get(label="A").child
    child.first_name, child.last_name = "QzcnryFirst", "QzcnryLast"
    child.save()
    ReferralDetail.objects.filter(referral=referral).update(narrative="Qzcnry narrative")
    for user in (administrator, admin_user):  # the Administrator, and the break-fix superuser
        sign_in_verified(client, user)
        for model in admin.site._registry:
            info = model._meta.app_label, model._meta.model_name
            urls = [reverse("admin:{}_{}_changelist".format(*info))]
            first = model._default_manager.order_by("pk").first()
            if first is not None:
                urls.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
            for url in urls:
                response = client.get(url)
                assert response.status_code in (200, 302, 403), (user, url, response.status_code)
                assert CANARY not in response.content.decode().lower(), (user, url)


def test_an_administrator_has_no_work_tray_nor_its_export(admin_client, administrator, role_user):
    """The finding: an administrator opened the (empty) work tray and its export. They hold no
    case data, so both answer 404 (as the access matrix says), even beside another role, and
    the menu does not offer the tray."""
    ReferralFactory()
    for name in ("referrals:tray", "referrals:export"):
        assert admin_client.get(reverse(name)).status_code == 404, name
    home = admin_client.get(reverse("core:home")).content.decode()
    assert reverse("referrals:tray") not in home
    administrator.groups.add(Group.objects.get(name=GROUP_NAMES[Role.REVIEWER]))
    administrator._mash_roles = None
    assert admin_client.get(reverse("referrals:tray")).status_code == 404
