#!/usr/bin/python3
"""deps.py SITE [COMPONENTS]: installs a Python app's dependencies (run by nabla-compile in $NABLA_SRC).

The requirements are requirements.txt and pyproject.toml's [project].dependencies. They come
from one source, chosen in this order:

  1. wheels/, a vendored folder of wheels (or pure-Python sdists): pip, offline;
  2. an index the user named (an option line in requirements.txt such as --index-url, or
     PIP_INDEX_URL / PIP_EXTRA_INDEX_URL): pip from it;
  3. Debian's python3-* packages installed in this toolchain image, when they satisfy every
     requirement (names, versions, markers): copied, offline;
  4. otherwise pip's default index, which needs a network.

Everything lands in SITE (the rootfs's /usr/lib/python3/dist-packages). The unikernel's
interpreter is static with no dlopen, so compiled extension modules cannot load: they are
removed, and a package that does not import without them fails the build by name. The
same interpreter (/opt/nabla/python/bin/python3) checks the imports and precompiles the
files (unchecked-hash pycs: no dates in them).

Run by Debian's python3 (it has pip); prints one line per installed distribution, and
writes the Debian packages it copied to COMPONENTS (JSON, the SBOM's; toolchains/README.md).
"""
import os
import pathlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from urllib.parse import quote

from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
from pip._vendor.packaging.utils import canonicalize_name

# Debian's site folder in this image, and the dependencies' folder in the unikernel's rootfs.
SITE = "/usr/lib/python3/dist-packages"
NABLA_PYTHON = "/opt/nabla/python"
INDEX_VARIABLES = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")
FIX = ("vendor them (`pip download -r requirements.txt -d wheels` on a machine with the index, "
       "then keep wheels/ with the app), name a reachable index (`--index-url URL` in "
       "requirements.txt, or PIP_INDEX_URL in nabla-build's environment), or use a package "
       "the toolchain image has from Debian")


class DepsError(Exception):
    pass


def read_requirements(path, seen=()):
    """Requirement lines of a requirements file, with -r included; and whether it has
    pip options (an index, hashes, constraints, editables), which only pip can honour."""
    lines, options = [], False
    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\\\n", " ")
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        nested = re.fullmatch(r"(?:-r|--requirement)(?:\s+|=)(\S+)", line)
        if nested:
            nested = os.path.join(os.path.dirname(path), nested[1])
            if nested not in seen:
                more, more_options = read_requirements(nested, seen + (path,))
                lines += more
                options = options or more_options
        elif line.startswith("-") or " --" in line:
            options = True
        elif line:
            lines.append((f"{path}:{number}", line))
    return lines, options


def read_pyproject():
    """[project].dependencies of pyproject.toml, as (where, line) pairs."""
    try:
        with open("pyproject.toml", "rb") as f:
            project = tomllib.load(f)
    except FileNotFoundError:
        return []
    except tomllib.TOMLDecodeError as e:
        raise DepsError(f"pyproject.toml: {e}; fix the TOML syntax")
    deps = project.get("project", {}).get("dependencies", [])
    if not deps and project.get("tool", {}).get("poetry", {}).get("dependencies"):
        print("deps: pyproject.toml's [tool.poetry.dependencies] is not read; "
              "export them with `poetry export -o requirements.txt`", file=sys.stderr)
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise DepsError('pyproject.toml: field "project.dependencies" must be a list of strings, e.g. ["flask>=2"]')
    return [("pyproject.toml", d) for d in deps]


def parse(lines):
    requirements = []
    for where, line in lines:
        try:
            requirements.append(Requirement(line))
        except InvalidRequirement as e:
            raise DepsError(f'{where}: "{line}" is not a requirement ({e}); write e.g. "flask>=2.2"')
    return requirements


def pip_install(site, args, source):
    print(f"+ pip install ({source})", flush=True)
    command = [sys.executable, "-m", "pip", "install", "--target", site, "--no-compile",
               "--disable-pip-version-check", "--no-warn-script-location", "--progress-bar", "off",
               "--root-user-action", "ignore", "--retries", "1", "--timeout", "20", *args]
    if subprocess.run(command).returncode != 0:
        raise DepsError(f"pip could not install the requirements from {source} (its messages are above); {FIX}")
    # Console scripts are host executables: the unikernel runs only its entry.
    shutil.rmtree(os.path.join(site, "bin"), ignore_errors=True)
    for dist in sorted(metadata.distributions(path=[site]), key=lambda d: canonicalize_name(d.name)):
        print(f"dependency: {dist.name} {dist.version} (pip, {source})")


def debian_dists():
    """The distributions Debian's python3-* packages installed, by canonical name, with
    their metadata folders (for dpkg -S)."""
    dists = {}
    for entry in sorted(os.listdir(SITE)):
        if entry.endswith((".dist-info", ".egg-info")):
            folder = os.path.join(SITE, entry)
            dist = metadata.PathDistribution(pathlib.Path(folder))
            dists[canonicalize_name(dist.name)] = (dist, folder)
    return dists


def dpkg(*args):
    return subprocess.run(["dpkg-query", *args], capture_output=True, text=True).stdout


def debian_packages(requirements):
    """The Debian packages whose distributions satisfy the requirements (name, version,
    markers), with the python3-* packages they depend on; and the requirements they do not
    satisfy. Dependencies follow the packages' Depends: Debian's metadata often leaves its
    install_requires out, and Debian's packages fit each other's versions."""
    debian = debian_dists()
    packages, missing = [], []
    for req in requirements:
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        dist, folder = debian.get(canonicalize_name(req.name), (None, None))
        if dist is None or req.extras or not req.specifier.contains(dist.version, prereleases=True):
            missing.append((req, dist))
        else:
            packages.append(subprocess.run(["dpkg", "-S", folder], capture_output=True, text=True).stdout.split(":")[0])
    closure = []
    while packages:
        package = packages.pop()
        if package in closure:
            continue
        closure.append(package)
        depends = dpkg("-W", "-f=${Depends}", package).replace("|", ",").split(",")
        packages += [d for d in (dep.split()[0] for dep in depends if dep.strip())
                     if d.startswith("python3-") and "ok installed" in dpkg("-W", "-f=${Status}", d)]
    return sorted(closure), missing


def debian_copy(site, packages):
    """Copies the packages' files under SITE; returns them as SBOM components."""
    release = dict(line.split("=", 1) for line in open("/usr/lib/os-release").read().splitlines() if "=" in line)
    distro = f"{release['ID']}-{release['VERSION_ID']}".replace('"', "")
    components = []
    for package in packages:
        for file in dpkg("-L", package).splitlines():
            if file.startswith(SITE + "/") and os.path.isfile(file):
                target = os.path.join(site, os.path.relpath(file, SITE))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(file, target)
        version, arch = dpkg("-W", "-f=${Version} ${Architecture}", package).split(" ")
        print(f"dependency: Debian's {package} {version}")
        components.append({"type": "library", "name": package, "version": version,
                           "purl": f"pkg:deb/debian/{quote(package, safe='')}@{quote(version, safe='')}?arch={arch}&distro={distro}",
                           "description": f"Debian's, in the rootfs at {SITE}"})
    return components


def describe_missing(missing):
    parts = []
    for req, dist in missing:
        if dist is None:
            parts.append(f'"{req.name}" (no Debian python3-* package in this toolchain has it)')
        elif req.extras:
            parts.append(f'"{req}" (extras come only from pip)')
        else:
            parts.append(f'"{req}" (Debian has {dist.version})')
    return ", ".join(parts)


def drop_compiled(site):
    """Removes compiled extension modules; fails if a package needs its own."""
    compiled = sorted(os.path.relpath(os.path.join(root, f), site)
                      for root, _, files in os.walk(site) for f in files if f.endswith((".so", ".pyd")) or ".so." in f)
    if not compiled:
        return
    for path in compiled:
        os.remove(os.path.join(site, path))
    tops = sorted({p.split(os.sep)[0].split(".")[0] for p in compiled})
    check = ("import importlib, sys\nbad = []\nfor name in sys.argv[1:]:\n    try:\n        importlib.import_module(name)\n"
             "    except Exception as e:\n        bad.append(f'{name} ({type(e).__name__}: {e})')\nprint('\\n'.join(bad))")
    result = subprocess.run(runtime_python("-c", check, *tops), capture_output=True, text=True, cwd=site)
    broken = [line for line in result.stdout.splitlines() if line]
    if broken:
        raise DepsError(
            f"dependencies need compiled extension modules, which a nabla Python unikernel cannot load "
            f"(static interpreter, no dlopen): {'; '.join(broken)}; compiled files: {', '.join(compiled[:5])}. "
            f"Use a pure-Python package instead (or one of the built-in modules in {NABLA_PYTHON}/modules.txt)")
    print(f"deps: left out {len(compiled)} compiled module(s) with pure-Python fallbacks: {', '.join(compiled[:5])}")


def runtime_python(*args):
    """The unikernel's interpreter as a plain static program, on the stdlib the app gets."""
    return ["env", "-i", f"PYTHONHOME={NABLA_PYTHON}/rootfs/usr", "PYTHONPATH=.", "PYTHONDONTWRITEBYTECODE=1",
            f"{NABLA_PYTHON}/bin/python3", "-s", *args]


def precompile(site):
    result = subprocess.run(runtime_python("-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
                                           "-s", site, "-p", SITE, site), capture_output=True, text=True)
    if result.returncode != 0:
        raise DepsError(f"a dependency does not compile: {(result.stdout + result.stderr).strip()[-2000:]}")


def main():
    site = sys.argv[1]
    components = sys.argv[2] if len(sys.argv) > 2 else None
    lines, options = read_requirements("requirements.txt") if os.path.exists("requirements.txt") else ([], False)
    lines += read_pyproject()
    requirements = parse(lines)
    if not requirements and not options:
        return
    files = [*(["-r", "requirements.txt"] if os.path.exists("requirements.txt") else []),
             *(line for where, line in lines if where == "pyproject.toml")]
    os.makedirs(site, exist_ok=True)
    if os.path.isdir("wheels"):
        # Debian's setuptools builds a vendored sdist: offline, nothing to isolate it with.
        pip_install(site, ["--no-index", "--find-links", "wheels", "--no-build-isolation", *files], "wheels/")
    elif options or any(os.environ.get(v) for v in INDEX_VARIABLES):
        pip_install(site, files, "the index named in requirements.txt or PIP_*")
    else:
        packages, missing = debian_packages(requirements)
        if not missing:
            copied = debian_copy(site, packages)
            if components:
                with open(components, "w") as f:
                    json.dump(copied, f)
        else:
            print(f"deps: not in this toolchain's Debian packages: {describe_missing(missing)}; trying pip's index")
            try:
                pip_install(site, files, "pip's default index")
            except DepsError:
                have = ", ".join(sorted(dist.name for dist, _ in debian_dists().values()))
                raise DepsError(f"the requirements are not available offline: {describe_missing(missing)} "
                                f"(the Debian packages here have: {have}), and pip's index could not provide "
                                f"them (above); {FIX}") from None
    drop_compiled(site)
    precompile(site)


if __name__ == "__main__":
    try:
        main()
    except DepsError as e:
        print(f"nabla-compile: {e}", file=sys.stderr)
        sys.exit(1)
