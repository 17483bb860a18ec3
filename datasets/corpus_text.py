"""A corpus document's raw bytes -> its text: plain text, Sphinx HTML (python3.11-doc), Brown's
part-of-speech-tagged tokens -> sentences, and the King James Bible read through the `bible` program
of its own package (one book per document). Used by datasets/corpora.py."""
import html.parser, os, re, subprocess

from corpus_sources import CorpusError

CLEANERS = {}  # name -> function(bytes, doc_id) -> str (filled at the end of this file)


def parse_bible(text):
    """The bible program's pretty output ('Book N' lines, then indented 'V text' verses) ->
    [(book, document)], in the Bible's order; a document is 'Book N' + a blank line + its verses
    per chapter, chapters separated by a blank line."""
    books, counts = [], {"chapters": 0, "verses": 0}
    cur = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[0].isspace():
            m = re.fullmatch(r"\s+(\d+) (.*\S)\s*", line)
            if not m or cur is None:
                raise CorpusError(f"bible: unexpected line {line[:80]!r}")
            cur[1][-1][1].append(f"{m.group(1)} {m.group(2)}")
            counts["verses"] += 1
        else:
            m = re.fullmatch(r"(.+\S) (\d+)\s*", line)
            if not m:
                raise CorpusError(f"bible: unexpected heading {line[:80]!r}")
            book = m.group(1)
            if cur is None or cur[0] != book:
                cur = (book, [])
                books.append(cur)
            cur[1].append((line.strip(), []))
            counts["chapters"] += 1
    docs = [(book, "\n\n".join(head + "\n\n" + "\n".join(verses) for head, verses in chapters))
            for book, chapters in books]
    return docs, counts


def read_bible(spec, dirs):
    data_pkg, data_dir = spec["data"].split(":", 1)
    tool_pkg, tool = spec["tool"].split(":", 1)
    tool_path = os.path.join(dirs[tool_pkg], tool)
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": dirs[tool_pkg]}
    r = subprocess.run([tool_path, "-l", "100000", "-p", os.path.join(dirs[data_pkg], data_dir), spec["range"]],
                       stdin=subprocess.DEVNULL, capture_output=True, env=env)
    if r.returncode != 0:
        raise CorpusError(f"bible: {tool_path} failed (exit {r.returncode}): {r.stderr.decode(errors='replace')[:500]}")
    docs, counts = parse_bible(r.stdout.decode("utf-8", errors="replace"))
    got = {"books": len(docs), **counts}
    for k, v in got.items():
        if k in spec and spec[k] != v:
            raise CorpusError(f"bible: {v} {k}, the manifest expects {spec[k]}")
    return [(book, text.encode("utf-8")) for book, text in docs]


# ---------------------------------------------------------------------------------------------
# cleaning: raw bytes of one document -> its text

def clean_plain(raw, doc_id=""):
    return raw.decode("utf-8", errors="replace").strip()


class SphinxText(html.parser.HTMLParser):
    """Text of a Sphinx page's main column (div role=main; the whole body when there is none):
    headings, paragraphs, list items, table rows and definition terms become paragraphs, code
    blocks (pre) stay verbatim, and navigation, scripts, styles, forms and the pilcrow anchors
    (a.headerlink) are dropped."""
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    BLOCK = {"p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "ul",
             "ol", "dl", "table", "thead", "tbody", "tr", "blockquote", "aside", "figure", "figcaption",
             "caption", "hr", "br", "main"}
    SKIP_TAGS = {"script", "style", "nav", "head", "form", "button", "noscript", "svg", "template"}
    SKIP_CLASSES = {"headerlink", "sphinxsidebar", "related", "footer", "mobile-nav", "menu-wrapper", "copybutton"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, main, skip, pre, cell) of open elements
        self.main = self.skip = self.pre = self.cell = 0
        self.has_main = False
        self.blocks, self.buf, self.prebuf, self.prefix = [], [], [], ""

    def _flush(self):
        text = re.sub(r"\s+", " ", "".join(self.buf)).strip()
        self.buf = []
        if text:
            self.blocks.append(self.prefix + text)
            self.prefix = ""

    def _collecting(self):
        return (self.main > 0 or not self.has_main) and self.skip == 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        is_main = tag == "div" and a.get("role") == "main"
        is_skip = tag in self.SKIP_TAGS or bool(classes & self.SKIP_CLASSES)
        if is_main and not self.has_main:
            self.has_main = True
            self.blocks, self.buf, self.prefix = [], [], ""  # anything before the main column was chrome
        if self._collecting() and not is_skip:
            if tag == "pre":
                self._flush()
                self.prebuf = []
            elif tag in ("td", "th"):
                if self.pre == 0 and "".join(self.buf).strip():
                    self.buf.append(" | ")
            elif tag in self.BLOCK and self.cell and tag != "tr":
                self.buf.append(" ")  # paragraphs inside a table cell stay on the row's line
            elif tag in self.BLOCK:
                if self.pre == 0:
                    self._flush()
                if tag == "li":
                    self.prefix = "- "
        if tag in self.VOID:
            return
        is_cell = tag in ("td", "th")
        self.stack.append((tag, is_main, is_skip, tag == "pre", is_cell))
        self.main += is_main
        self.skip += is_skip
        self.pre += tag == "pre"
        self.cell += is_cell

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID or not any(t == tag for t, *_ in self.stack):
            return  # a stray end tag
        while self.stack:
            t, is_main, is_skip, is_pre, is_cell = self.stack[-1]
            if self._collecting():  # this element's content was collected
                if is_pre:
                    code = "\n".join(l.rstrip() for l in "".join(self.prebuf).split("\n")).strip("\n")
                    if code.strip():
                        self.blocks.append(code)
                    self.prebuf = []
                elif t in self.BLOCK and self.cell and t != "tr":
                    self.buf.append(" ")
                elif t in self.BLOCK and self.pre == 0:
                    self._flush()
                    if t == "li":
                        self.prefix = ""
            self.stack.pop()
            self.main -= is_main
            self.skip -= is_skip
            self.pre -= is_pre
            self.cell -= is_cell
            if t == tag:
                break

    def handle_data(self, data):
        if not self._collecting():
            return
        (self.prebuf if self.pre else self.buf).append(data)

    def text(self):
        self.close()
        self._flush()
        return "\n\n".join(self.blocks)


def clean_sphinx_html(raw, doc_id=""):
    p = SphinxText()
    p.feed(raw.decode("utf-8", errors="replace"))
    return p.text().strip()


BROWN_OPEN = {"``", "(", "["}
BROWN_CLOSE = {"''", ".", ",", ";", ":", "?", "!", ")", "]"}


def brown_sentence(tokens):
    """Tagged tokens (word/tag) of one Brown sentence -> plain text: tags dropped, `` and ''
    become ", punctuation attached as printed, a lone ' alternates between opening and closing,
    a sentence's period after an abbreviation's ("Jr. .") is dropped."""
    out, glue_next, single_open = "", True, False
    for tok in tokens:
        word = tok.rsplit("/", 1)[0] if "/" in tok[1:] else tok
        attach = word in BROWN_CLOSE
        opens = word in BROWN_OPEN
        if word == "'":
            attach, opens = single_open, not single_open
            single_open = not single_open
        if word == "." and out.endswith("."):
            continue  # an abbreviation ending the sentence ("Jr. .") keeps one period
        shown = '"' if word in ("``", "''") else word
        out += shown if (glue_next or attach or not out) else " " + shown
        glue_next = opens
    return out


def clean_brown(raw, doc_id=""):
    lines = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        tokens = line.split()
        if tokens:
            lines.append(brown_sentence(tokens))
    return "\n".join(lines).strip()


CLEANERS.update({"plain": clean_plain, "sphinx-html": clean_sphinx_html, "brown-tagged": clean_brown,
                 "bible-kjv": clean_plain})
