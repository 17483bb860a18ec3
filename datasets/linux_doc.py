#!/usr/bin/env python3
"""Real English prose from Debian's linux-doc-6.1 (the kernel's reStructuredText documentation).

  datasets/linux_doc.py build [--deb FILE] [--out DIR]   download (apt-get download), verify, split, checksum
  datasets/linux_doc.py pack  TEXT[.gz] OUT.u16           byte-level tokens (vocab 256) as raw uint16

build is `datasets/corpora.py build --only linux-doc` (corpus "linux-doc" of datasets/corpora.json,
with the same outputs): every Documentation/**/*.rst is one document; documents are sorted by path
and split by a hash of the path (5% validation, 5% test, 90% train) so no document straddles two
splits. The splits are written as UTF-8 text (documents joined by a blank line) with gzip copies,
and manifest.json records the package version, its SHA-256 and each split's documents, bytes and
SHA-256. The .deb must match the SHA-256 pinned in corpora.json.
"""
import argparse, array, gzip, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpora  # noqa: E402

PACKAGE = "linux-doc-6.1"
sha256 = corpora.sha256_file
split_of = corpora.split_of


def build(args):
    try:
        manifest = corpora.load_manifest()
        local = {PACKAGE: os.path.abspath(args.deb)} if args.deb else {}
        man = corpora.build_corpus("linux-doc", manifest, out=args.out, local=local)
    except corpora.CorpusError as e:
        sys.exit(f"linux_doc: {e}")
    print(json.dumps({s: {k: e[k] for k in ("documents", "bytes", "sha256")} for s, e in man["splits"].items()}))


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
