# clinesync in a container: `docker run --rm -v "$PWD:/work" clinesync validate orgs/`.
# A slim Python base, clinesync installed from this checkout, and a user that is not root.
FROM python:3.12-slim
WORKDIR /src
COPY pyproject.toml README.md ./
COPY clinesync ./clinesync
COPY schemas ./schemas
RUN python -m pip install --no-cache-dir . && rm -rf /src \
    && useradd --create-home --uid 10001 clinesync
USER clinesync
WORKDIR /work
ENTRYPOINT ["clinesync"]
CMD ["--help"]
