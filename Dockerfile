# homerag API / scheduler image. BGE-M3 runs on the GPU given to the container (see compose).
# The image installs the wheel (as `make wheel-smoke` tests it) under constraints-docker.txt:
# the dev/CI lock's pins with the CUDA build of torch from PyPI (`make lock` writes both).
FROM python:3.11-slim-bookworm AS wheel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CONSTRAINT=/src/constraints-docker.txt
WORKDIR /src
COPY pyproject.toml setup.py README.md constraints-docker.txt ./
COPY app ./app
COPY ingest ./ingest
COPY migrations ./migrations
COPY prompts ./prompts
RUN pip install -q --upgrade pip && pip wheel -q --no-deps -w /wheels .

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CONSTRAINT=/opt/homerag/constraints-docker.txt \
    SCARF_NO_ANALYTICS=true DO_NOT_TRACK=true UNSTRUCTURED_DISABLE_NOTICE=1 \
    HF_HUB_DISABLE_TELEMETRY=1 HOMERAG_DATA_DIR=/data

RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu \
      libmagic1 ca-certificates \
 && rm -rf /var/lib/apt/lists/*

COPY constraints-docker.txt /opt/homerag/
COPY --from=wheel /wheels /opt/homerag/wheels
RUN pip install -q --upgrade pip \
 && pip install "$(ls /opt/homerag/wheels/homerag-*.whl)[bge]"

RUN useradd --create-home --uid 1000 homerag && mkdir -p /data && chown homerag /data
USER homerag
WORKDIR /home/homerag
EXPOSE 8000
# Listening on 0.0.0.0 needs at least one user, or serve refuses to start (one line in the log):
#   docker run -it --rm -v homerag-data:/data homerag:latest homerag user add NAME
CMD ["homerag", "serve", "--host", "0.0.0.0", "--port", "8000"]
