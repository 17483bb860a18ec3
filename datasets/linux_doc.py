#!/usr/bin/env python3
"""Real English prose from Debian's linux-doc-6.1 (the kernel's reStructuredText documentation).

  datasets/linux_doc.py build [--deb FILE] [--out DIR]   download (apt-get download), split, checksum
  datasets/linux_doc.py pack  TEXT[.gz] OUT.u16           byte-level tokens (vocab 256) as raw uint16

build: every Documentation/**/*.rst is one document; documents are sorted by path and split by a
hash of the path (5% validation, 5% test, 90% train) so no document straddles two splits. The
splits are written as UTF-8 text (documents joined by a blank line) with gzip copies, and
manifest.json records the package version, its SHA-256 and each split's documents, bytes and SHA-256.
"""
import argparse, array, gzip, hashlib, json, os, subprocess, sys, tempfile

PACKAGE = "linux-doc-6.1"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def split_of(relpath):
    bucket = int(hashlib.sha256(relpath.encode()).hexdigest(), 16) % 20
    return "val" if bucket == 0 else "test" if bucket == 1 else "train"


def build(args):
    out = args.out
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        deb = args.deb
        if not deb:
            subprocess.run(["apt-get", "download", PACKAGE], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
            deb = os.path.join(tmp, [f for f in os.listdir(tmp) if f.endswith(".deb")][0])
        root = os.path.join(tmp, "root")
        subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
        version = subprocess.run(["dpkg-deb", "-f", deb, "Version"], check=True, capture_output=True, text=True).stdout.strip()
        docs_root = os.path.join(root, "usr/share/doc", PACKAGE, "Documentation")
        if not os.path.isdir(docs_root):
            sys.exit(f"linux_doc: {deb} has no {docs_root}")
        docs = []
        for d, _, files in os.walk(docs_root):
            for f in files:
                if f.endswith(".rst.gz") or f.endswith(".rst"):
                    docs.append(os.path.relpath(os.path.join(d, f), docs_root))
        docs.sort()
        texts = {"train": [], "val": [], "test": []}
        for rel in docs:
            p = os.path.join(docs_root, rel)
            raw = gzip.open(p, "rb").read() if p.endswith(".gz") else open(p, "rb").read()
            texts[split_of(rel)].append((rel, raw.decode("utf-8", errors="replace").strip()))
        manifest = {"source": f"Debian package {PACKAGE} {version}", "package_sha256": sha256(deb),
                    "documents": len(docs), "splits": {}}
        for name, items in texts.items():
            body = "\n\n".join(t for _, t in items).encode("utf-8")
            path = os.path.join(out, f"{name}.txt")
            with open(path, "wb") as f:
                f.write(body)
            with open(path + ".gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
                f.write(body)
            manifest["splits"][name] = {"documents": len(items), "bytes": len(body), "sha256": sha256(path)}
        with open(os.path.join(out, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
    print(json.dumps(manifest["splits"]))


def pack(args):
    src = args.text
    data = gzip.open(src, "rb").read() if src.endswith(".gz") else open(src, "rb").read()
    tokens = array.array("H", list(data))  # one token per byte: ids 0..255
    if sys.byteorder != "little":
        tokens.byteswap()
    with open(args.out, "wb") as f:
        tokens.tofile(f)
    print(f"{args.out}: {len(tokens)} tokens")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--deb", default="")
    b.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "build", "linux-doc"))
    p = sub.add_parser("pack")
    p.add_argument("text")
    p.add_argument("out")
    args = ap.parse_args()
    build(args) if args.cmd == "build" else pack(args)


if __name__ == "__main__":
    main()
