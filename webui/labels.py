"""Chinese labels for the stored English codes, from the field registry (``core.fields``): a document kind
or event kind reads the same in an e-mail, the feed, the CLI and the web UI."""

from core.fields import DOC_KIND_LABELS, EVENT_KIND_LABELS

KINDS_ZH = DOC_KIND_LABELS
EVENTS_ZH = EVENT_KIND_LABELS
