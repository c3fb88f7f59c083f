"""Who does what with the model guidance (docs/adr/0011-model-guidance.md).

Report officers write the guidance, record the cabinet's approval and publish it: they are
the officers who take papers to cabinet. Administrators may draft and submit (they keep the
product's reference data) but do not approve or publish. MASH managers may read the DSL
training coverage. Schools need no account: they read the published version and
acknowledge it through their e-mailed link.
"""

from core.roles import Role

EDITORS = frozenset({Role.REPORT_OFFICER, Role.ADMINISTRATOR})
APPROVERS = frozenset({Role.REPORT_OFFICER})
COVERAGE_READERS = frozenset({Role.REPORT_OFFICER, Role.ADMINISTRATOR, Role.MASH_MANAGER})
#: Who e-mails schools' DSLs to renew their training: those who write to schools already.
TRAINING_REMINDERS = EDITORS
