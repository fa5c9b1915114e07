"""Chinese labels for the stored English codes: the ones the alerts already use, so that a document
kind or event kind reads the same in an e-mail, the feed and the web UI."""

from alerts.render import DOC_KIND_LABELS, KIND_LABELS

KINDS_ZH = DOC_KIND_LABELS
EVENTS_ZH = KIND_LABELS
