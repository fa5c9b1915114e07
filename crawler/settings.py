"""Scrapy settings for Yibao Watch, and every YIBAO_* setting with its default.

Politeness is the default: robots.txt obeyed, one request at a time per domain, AutoThrottle,
retries with backoff for 5xx/timeouts, a descriptive User-Agent. Per-portal overrides come from
the registry's ``settings`` table (applied at spider priority).
"""

from scrapy.settings import default_settings as _default_settings

BOT_NAME = "yibao"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
SPIDER_LOADER_CLASS = "crawler.spiderloader.PortalSpiderLoader"

USER_AGENT = "YibaoWatch/0.1 (+https://github.com/yibao-watch/yibao-watch; policy monitor; contact: ops@example.org)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19 starts a code-execution HTTP server (RemoteControl, aiohttp) in every crawl and writes its token to
# the user's profile folder: a daemon on a server wants neither, and importing aiohttp and twisted.conch for the
# two consoles cost about 0.15 CPU-s per crawl process. Left out of EXTENSIONS_BASE (a None in EXTENSIONS would
# still import them: Scrapy loads every listed class to normalise the dict).
REMOTE_CONTROL_ENABLED = False
_CONSOLES = {"scrapy.extensions.telnet.TelnetConsole", "scrapy.extensions.remote_control.RemoteControl"}
EXTENSIONS_BASE = {path: order for path, order in _default_settings.EXTENSIONS_BASE.items() if path not in _CONSOLES}
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
# Scrapy starts CONCURRENT_ITEMS worker tasks for every callback's output; our pipelines are synchronous (the
# archive pipeline batches on its own), so parallel item processing buys nothing and 100 tasks per page cost CPU.
CONCURRENT_ITEMS = 1
FEED_EXPORT_ENCODING = "utf-8"

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.PortalHostsMiddleware": 50,
    "crawler.middlewares.BlockedPageMiddleware": 560,
    "crawler.middlewares.EncodingRepairMiddleware": 570,
}
ITEM_PIPELINES = {
    "crawler.pipelines.normalize_record.NormalizeRecordPipeline": 300,
    "crawler.pipelines.archive_record.ArchiveRecordPipeline": 800,
    "crawler.pipelines.documents_only.DocumentsOnlyPipeline": 1000,
}
EXTENSIONS = {
    "crawler.extensions.RunRecorder": 100,
    "crawler.gc_tuning.GcTuning": 110,
}

# -- Yibao Watch settings (documented in docs/settings.md) ---------------------------------------
YIBAO_CONFIG = None  # user config file (yibao.toml); None: $YIBAO_CONFIG or ./yibao.toml
YIBAO_DB = None  # archive path; None: [archive] path from the config, else data/archive.db
YIBAO_EVENT_ROUTER = "alerts.routing.router_for_crawler"  # crawler -> on_event(db, event) | None; None: no routing
YIBAO_RUN_ID = None  # set by the scheduler; a manual `scrapy crawl` opens its own run
YIBAO_FULL = False  # full re-crawl: read every list page and re-fetch every document
YIBAO_LOOKBACK_PAGES = 1  # list pages always read before "nothing new" stops paging
YIBAO_MAX_LIST_PAGES = 500  # hard cap on list pages per column
YIBAO_REVISIT_BUDGET = 200  # young documents re-fetched (conditionally) per run at most, beyond the coverage share
YIBAO_REVISIT_YOUNG_DAYS = 14  # documents first seen within this many days are revisited every run (within the budget)
YIBAO_REVISIT_OLD_INTERVAL_DAYS = 7  # every document is revisited at least this often (spiders/state.py)
YIBAO_WITHDRAW_CHECKS = 2  # consecutive gone checks (404/soft-404) before "withdrawn"
YIBAO_FETCH_ATTACHMENTS = True  # fetch, hash and extract text of PDF attachments
YIBAO_ATTACHMENTS_PER_PAGE = 5  # attachment fetches per page at most (the other links listed unfetched)
YIBAO_ATTACHMENTS_PER_RUN = 200  # attachment fetches per run at most
YIBAO_KEEP_HTML = False  # keep the fetched HTML on RawPage (debugging; the archive stores records)
YIBAO_STORE_BATCH = 50  # pages stored per write transaction (1: each page on arrival)
YIBAO_GC_THRESHOLDS = [10_000, 20, 20]  # the collector's thresholds once the engine runs ([]: left alone)
YIBAO_STORE_BATCH_SECONDS = 1.0  # a batch is written at the latest this long after its first page arrived
