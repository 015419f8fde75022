# odio serve: the HTTP moderation API around a trained model, on the CPU.
#   docker build -t odio-serve .
#   docker run --rm -p 8000:8000 -e ODIO_API_TOKEN=change-me \
#       -v "$PWD/runs/tfidf/model:/model:ro" odio-serve
# The model directory is mounted read-only at /model; the server runs as a non-root user.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY src ./src
# PyTorch's CPU build from its own index (the default index pulls the CUDA build).
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && pip install ".[transformer,onnx,serve]" -c constraints.txt

RUN useradd --create-home --uid 10001 odio
USER odio
EXPOSE 8000
ENTRYPOINT ["odio", "serve", "/model", "--host", "0.0.0.0", "--port", "8000"]
