# Yibao Watch in a container (see docs/deploy.md).
#
#   docker build -t yibao-watch .
#   docker run -d --name yibao-watch -v yibao-data:/var/lib/yibao \
#              -v "$PWD/yibao.toml:/etc/yibao/yibao.toml:ro" yibao-watch           # the scheduler daemon
#   docker run -d --name yibao-web -p 8001:8001 -v yibao-data:/var/lib/yibao \
#              -v "$PWD/yibao.toml:/etc/yibao/yibao.toml:ro" yibao-watch \
#              yibao serve --host 0.0.0.0                                            # the web UI (read-only)
#
# The archive is /var/lib/yibao/archive.db (YIBAO_DB) on the volume both containers share; the config is
# /etc/yibao/yibao.toml (YIBAO_CONFIG). `docker run --rm -e YIBAO_CONFIG= yibao-watch yibao demo` runs the demo.
#
# Scale-out (docs/scale-out.md): the same image runs every role -- `yibao writer` beside the scheduler on the
# archive's volume, `yibao worker --jobs N` on any machine (the config only, no archive), Redis from its own image;
# deploy/compose.yaml's "cluster" profile wires them.

FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
# the wheel only: its dependencies are resolved once, in the final stage
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    YIBAO_CONFIG=/etc/yibao/yibao.toml \
    YIBAO_DB=/var/lib/yibao/archive.db \
    SCRAPY_SETTINGS_MODULE=crawler.settings
RUN useradd --system --user-group --home-dir /var/lib/yibao --create-home --shell /usr/sbin/nologin yibao \
    && mkdir -p /etc/yibao
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER yibao
WORKDIR /var/lib/yibao
VOLUME ["/var/lib/yibao"]
EXPOSE 8001
# SIGTERM (docker stop) stops the daemon cleanly, running crawls closed within 60 s: use `docker stop -t 90`
CMD ["yibao", "run"]
