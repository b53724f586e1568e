# The runc side of the CPython compat run: Debian's own python3.11 (the version the python
# toolchain builds from source) and its regression test suite, on the same Debian base
# image. The harness also copies the suite's test package out of this image into the
# nabla app, so both sides run the same test files.
ARG NABLA_FROM
FROM ${NABLA_FROM}
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3.11 libpython3.11-testsuite \
 && rm -rf /var/lib/apt/lists/*
