"""DocumentsOnlyPipeline: the last pipeline. A ``FetchOutcome`` (304, gone, error) has been recorded by
then and stops here, so the feed exports (``scrapy crawl ID -O docs.jsonl``) and ``item_scraped``
receivers get documents only. The drop is logged at DEBUG: it is the normal course, not a loss."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from crawler.items import FetchOutcome


class DocumentsOnlyPipeline:
    def process_item(self, item: Any) -> Any:
        if isinstance(item, FetchOutcome):
            raise DropItem(f"fetch outcome recorded, not a document: {item.outcome} {item.url}", log_level="DEBUG")
        return item
