"""``{% url %}`` that remembers what a name without arguments reverses to.

Every page's header, service navigation and footer reverse about a dozen fixed names (the work
tray, case reviews, the accessibility statement...), and Django's tag reverses each one anew on
every page: the URLconf's namespaces walked, the pattern filled in, checked and quoted. That was
about a quarter of the time spent rendering the layout, and 6 to 8% of a page's time.

A name with arguments, or one stored with ``as``, is reversed each time exactly as Django's
tag does. A name without arguments is reversed once per URLconf, script prefix, current
application and language, and reads as Django's tag would from then on: the patterns of a
running process do not change (a test that swaps the URLconf with ``override_settings`` gets
its own entries).

Installed as a template builtin (config/settings/base.py), so it replaces Django's ``url`` in
every template without a ``{% load %}``.
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

register = template.Library()

#: {(view name, current app, URLconf, script prefix, language): the path it reverses to}
_reversed: dict[tuple, str] = {}
#: At most this many (the service has a few hundred names; more means many script prefixes).
REMEMBERED = 2_000


class RememberedURLNode(URLNode):
    def render(self, context):
        if self.args or self.kwargs or self.asvar:
            return super().render(context)
        view_name = self.view_name.resolve(context)
        try:  # as Django's tag
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        key = (
            view_name,
            current_app,
            get_urlconf() or settings.ROOT_URLCONF,
            get_script_prefix(),
            get_language(),
        )
        url = _reversed.get(key)
        if url is None:
            url = reverse(view_name, current_app=current_app)  # NoReverseMatch as Django's
            if len(_reversed) >= REMEMBERED:  # a script prefix comes with the request: bounded
                _reversed.clear()
            _reversed[key] = url
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    """Django's ``{% url %}``, parsed by Django; only the rendering of a name without
    arguments is remembered."""
    node = django_url(parser, token)
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
