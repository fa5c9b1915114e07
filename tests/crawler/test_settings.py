"""The crawl settings leave out Scrapy's two remote consoles."""

from __future__ import annotations

from scrapy.settings import Settings


def crawl_settings() -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    return settings


def test_no_code_execution_console_and_no_telnet_in_a_crawl() -> None:
    settings = crawl_settings()
    extensions = settings.getwithbase("EXTENSIONS")
    assert "scrapy.extensions.remote_control.RemoteControl" not in extensions
    assert "scrapy.extensions.telnet.TelnetConsole" not in extensions
    assert settings.getbool("REMOTE_CONTROL_ENABLED") is False
    assert settings.getbool("TELNETCONSOLE_ENABLED") is False


def test_the_other_scrapy_extensions_and_ours_stay() -> None:
    extensions = crawl_settings().getwithbase("EXTENSIONS")
    for kept in ("scrapy.extensions.corestats.CoreStats", "scrapy.extensions.throttle.AutoThrottle",
                 "scrapy.extensions.closespider.CloseSpider", "crawler.extensions.RunRecorder"):
        assert kept in extensions
