# odio serve: the HTTP moderation API around a trained model, on the CPU.
#   docker build -t odio-serve .
#   docker run --rm -p 8000:8000 -e ODIO_API_TOKEN=change-me \
#       -v "$PWD/runs/tfidf/model:/model:ro" odio-serve
# The model directory is mounted read-only at /model; the server runs as a non-root user.
# The base image is pinned to a Python release and a Debian release (for a byte-identical
# rebuild, pin its digest too: docker pull, then docker inspect --format '{{index .RepoDigests 0}}').
FROM python:3.11.7-slim-bookworm

ENV PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY src ./src
# Only what serving needs: PyTorch's CPU build from its own index (the default index pulls
# the CUDA build) and transformers for PyTorch models, ONNX Runtime for exported ones, the
# HTTP server. Not Lightning: the transformer extra is for training.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && pip install ".[onnx,serve]" -c constraints.txt

RUN useradd --create-home --uid 10001 odio
USER odio
EXPOSE 8000
# Liveness: /healthz answers without the token and never waits for the model. The slim image
# has no curl; Python's standard library asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["odio", "serve", "/model", "--host", "0.0.0.0", "--port", "8000"]
