from django.apps import AppConfig


class ModelGuidanceConfig(AppConfig):
    """The council's model guidance for schools, approved by cabinet: above scrutiny.

    Scrutiny knows nothing of it: this app plugs its appendix (Appendix 6) and the versions a
    report may carry into scrutiny's registry (``scrutiny.extensions``), as each app registers
    its documents with core.
    """

    name = "modelguidance"
    verbose_name = "Model guidance"

    def ready(self):
        from modelguidance import appendix

        appendix.register()
