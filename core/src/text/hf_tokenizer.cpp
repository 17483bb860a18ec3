#include "jenga/core/text/hf_tokenizer.hpp"

#include "jenga/core/error.hpp"
#include "text/byte_level_bpe.hpp"
#include "text/pretokenize.hpp"
#include "text/unicode_tables.hpp"
#include "text/utf8.hpp"

#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace jenga::core {
namespace {

using Json = nlohmann::json;

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(msg(path, ": cannot open"));
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return Json::parse(text.str());
  } catch (const Json::exception& e) {
    throw Error(msg(path, ": not valid JSON (", e.what(), ")"));
  }
}

// Field access with errors that say where in which file and what was expected.
struct Reader {
  std::string path;

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw Error(msg(path, ": ", field, ": ", what));
  }
  const Json& at(const Json& j, const std::string& field, const char* key) const {
    if (!j.is_object()) fail(field, msg("expected an object, got ", j.type_name()));
    const auto it = j.find(key);
    if (it == j.end()) fail(field, msg("missing field '", key, "'"));
    return *it;
  }
  std::string str(const Json& j, const std::string& field) const {
    if (!j.is_string()) fail(field, msg("expected a string, got ", j.type_name()));
    return j.get<std::string>();
  }
  std::string str(const Json& j, const std::string& field, const char* key) const { return str(at(j, field, key), field + "." + key); }
  int64_t integer(const Json& j, const std::string& field) const {
    if (!j.is_number_integer()) fail(field, msg("expected an integer, got ", j.type_name()));
    return j.get<int64_t>();
  }
  bool flag(const Json& j, const std::string& field, const char* key, bool fallback) const {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail(field + "." + key, msg("expected true or false, got ", it->type_name()));
    return it->get<bool>();
  }
  const Json& array(const Json& j, const std::string& field) const {
    if (!j.is_array()) fail(field, msg("expected an array, got ", j.type_name()));
    return j;
  }
};

std::string indexed(const std::string& field, size_t i) { return msg(field, "[", i, "]"); }

struct AddedToken {
  std::string content;
  int64_t id = 0;
  bool single_word = false, lstrip = false, rstrip = false, normalized = true, special = false;
};

// A stretch of the input: an added token (id >= 0) or text for the pre-tokenizer (id < 0).
struct Piece {
  std::string_view text;
  int64_t id;
};

// The character ending at `end` (end > 0), read backwards.
utf8::Char char_before(std::string_view s, size_t end) {
  size_t start = end - 1;
  while (start > 0 && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  const auto c = utf8::decode(s, start);
  return start + c.len == end ? c : utf8::Char{utf8::kInvalid, 1};
}

bool is_space(char32_t cp) { return cp != utf8::kInvalid && unicode::class_of(cp) == unicode::kSpace; }
bool is_word(char32_t cp) { return cp != utf8::kInvalid && unicode::is_word(cp); }

// HF's AddedVocabulary::find_matches over one set of added tokens: leftmost-longest matches,
// single_word ones dropped next to word characters, lstrip/rstrip taking neighbouring whitespace.
class AddedTokenSplitter {
 public:
  void add(const AddedToken* t) {
    if (t->content.empty()) return;
    auto& bucket = by_first_[static_cast<unsigned char>(t->content[0])];
    bucket.push_back(t);
    std::stable_sort(bucket.begin(), bucket.end(), [](const AddedToken* a, const AddedToken* b) { return a->content.size() > b->content.size(); });
    any_ = true;
  }

  void split(std::string_view s, std::vector<Piece>& out) const {
    if (!any_) {
      out.push_back({s, -1});
      return;
    }
    size_t done = 0;  // end of what is already in `out`
    for (size_t i = 0; i < s.size();) {
      const AddedToken* m = nullptr;
      for (const AddedToken* t : by_first_[static_cast<unsigned char>(s[i])])
        if (s.compare(i, t->content.size(), t->content) == 0) {
          m = t;
          break;
        }
      if (!m) {
        ++i;
        continue;
      }
      size_t start = i, stop = i + m->content.size();
      i = stop;
      if (m->single_word) {
        const bool word_before = start > 0 && is_word(char_before(s, start).cp);
        const bool word_after = stop < s.size() && is_word(utf8::decode(s, stop).cp);
        if (word_before || word_after) continue;
      }
      if (m->lstrip) {
        size_t k = start;
        while (k > done) {
          const auto c = char_before(s, k);
          if (!is_space(c.cp)) break;
          k -= c.len;
        }
        start = k;
      }
      if (m->rstrip) {
        while (stop < s.size()) {
          const auto c = utf8::decode(s, stop);
          if (!is_space(c.cp)) break;
          stop += c.len;
        }
        i = stop;
      }
      if (done < start) out.push_back({s.substr(done, start - done), -1});
      out.push_back({s.substr(start, stop - start), m->id});
      done = stop;
    }
    if (done < s.size()) out.push_back({s.substr(done), -1});
  }

 private:
  std::vector<const AddedToken*> by_first_[256];  // longest first
  bool any_ = false;
};

// One pre-tokenizer step: Split by a known regex, or ByteLevel (GPT-2's regex when use_regex).
struct Step {
  bool byte_level = false;
  bool add_prefix_space = false;
  std::optional<pretokenize::Pattern> split;
};

class HfBpeTokenizer final : public HfTokenizer {
 public:
  explicit HfBpeTokenizer(const std::string& path) : path_(path) {
    const Reader r{path};
    const Json j = read_json(path);
    if (!j.is_object()) r.fail("top level", msg("expected an object, got ", j.type_name()));
    read_model(r, r.at(j, "top level", "model"));
    read_added_tokens(r, j.value("added_tokens", Json::array()));
    read_normalizer(r, j.value("normalizer", Json()), "normalizer");
    read_pre_tokenizer(r, j.value("pre_tokenizer", Json()), "pre_tokenizer");
    if (steps_.empty() || !steps_.back().byte_level ||
        std::count_if(steps_.begin(), steps_.end(), [](const Step& s) { return s.byte_level; }) != 1)
      r.fail("pre_tokenizer", "expected one ByteLevel step, last (a byte-level BPE tokenizer)");
    read_decoder(r, j.value("decoder", Json()), "decoder");
    read_post_processor(r, j.value("post_processor", Json()), "post_processor");
    if (prefix_.size() == 1) bos_ = prefix_[0];
    build_decode_table();
    find_eos(r);
  }

  std::vector<int64_t> encode(const std::string& text) const override {
    std::vector<Piece> pieces, normalized;
    non_normalized_tokens_.split(text, pieces);
    for (const Piece& p : pieces) {
      if (p.id >= 0)
        normalized.push_back(p);
      else
        normalized_tokens_.split(p.text, normalized);  // no normalizer: the text as it is
    }
    std::vector<int64_t> ids;
    ids.reserve(text.size() / 3);
    for (const Piece& p : normalized) {
      if (p.id >= 0)
        ids.push_back(p.id);
      else if (!p.text.empty())
        pre_tokenize(p.text, 0, ids);
    }
    return ids;
  }

  std::vector<int64_t> encode_with_special_tokens(const std::string& text) const override {
    std::vector<int64_t> ids = prefix_;
    const auto body = encode(text);
    ids.insert(ids.end(), body.begin(), body.end());
    ids.insert(ids.end(), suffix_.begin(), suffix_.end());
    return ids;
  }

  std::string decode(const std::vector<int64_t>& ids) const override {
    std::string out;
    for (int64_t id : ids) {
      if (id < 0 || id >= vocab_size() || kind_[static_cast<size_t>(id)] == kAbsent)
        throw Error(msg(path_, ": decode: id ", id, " is not in the vocabulary (", vocab_size(), " ids)"));
      if (kind_[static_cast<size_t>(id)] == kText) out += bytes_[static_cast<size_t>(id)];
    }
    return out;
  }

  int64_t vocab_size() const override { return static_cast<int64_t>(kind_.size()); }
  std::optional<int64_t> bos_id() const override { return bos_; }
  std::optional<int64_t> eos_id() const override { return eos_; }

  std::optional<int64_t> token_to_id(const std::string& token) const override {
    for (const AddedToken& t : added_)
      if (t.content == token) return t.id;
    const auto it = bpe_->vocab().find(token);
    return it == bpe_->vocab().end() ? std::nullopt : std::optional<int64_t>(it->second);
  }

 private:
  // The pre-tokenizer's steps from `step` on, then the model, for one piece of text.
  void pre_tokenize(std::string_view piece, size_t step, std::vector<int64_t>& ids) const {
    if (step == steps_.size()) return bpe_->encode(piece, ids);
    const Step& s = steps_[step];
    std::string prefixed;
    if (s.add_prefix_space && piece[0] != ' ') {
      prefixed = " ";
      prefixed += piece;
      piece = prefixed;
    }
    if (!s.split) return pre_tokenize(piece, step + 1, ids);
    std::vector<std::string_view> words;
    pretokenize::split(*s.split, piece, words);
    for (std::string_view w : words) pre_tokenize(w, step + 1, ids);
  }

  void read_model(const Reader& r, const Json& m) {
    const std::string f = "model";
    const std::string type = m.contains("type") ? r.str(m, f, "type") : "BPE";
    if (type != "BPE") r.fail(f + ".type", msg("'", type, "' is not supported (only BPE)"));
    if (const auto d = m.find("dropout"); d != m.end() && !d->is_null() && !(d->is_number() && d->get<double>() == 0.0))
      r.fail(f + ".dropout", msg("BPE dropout ", d->dump(), " is not supported (null only)"));
    for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
      if (const auto it = m.find(k); it != m.end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty()))
        r.fail(f + "." + k, msg(it->dump(), " is not supported (a byte-level BPE has none)"));
    const Json& vj = r.at(m, f, "vocab");
    if (!vj.is_object()) r.fail(f + ".vocab", msg("expected an object of token: id, got ", vj.type_name()));
    std::unordered_map<std::string, int64_t> vocab;
    vocab.reserve(vj.size());
    for (const auto& [token, id] : vj.items()) {
      const int64_t v = r.integer(id, f + ".vocab[\"" + token + "\"]");
      if (v < 0) r.fail(f + ".vocab[\"" + token + "\"]", msg("negative id ", v));
      vocab.emplace(token, v);
    }
    const Json& mj = r.array(r.at(m, f, "merges"), f + ".merges");
    std::vector<std::pair<std::string, std::string>> merges;
    merges.reserve(mj.size());
    for (size_t i = 0; i < mj.size(); ++i) {
      const Json& e = mj[i];
      if (e.is_string()) {  // "a b", the older format
        const auto& s = e.get_ref<const std::string&>();
        const auto sp = s.find(' ');
        if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
          r.fail(indexed(f + ".merges", i), msg("expected \"left right\" (one space), got \"", s, "\""));
        merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        merges.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
      } else {
        r.fail(indexed(f + ".merges", i), msg("expected \"left right\" or [left, right], got ", e.dump()));
      }
    }
    byte_level::BpeOptions opt;
    if (const auto u = m.find("unk_token"); u != m.end() && !u->is_null()) opt.unk_token = r.str(*u, f + ".unk_token");
    opt.fuse_unk = r.flag(m, f, "fuse_unk", false);
    opt.byte_fallback = r.flag(m, f, "byte_fallback", false);
    opt.ignore_merges = r.flag(m, f, "ignore_merges", false);
    bpe_ = std::make_unique<byte_level::Bpe>(std::move(vocab), merges, opt, path_);
  }

  void read_added_tokens(const Reader& r, const Json& a) {
    const std::string f = "added_tokens";
    r.array(a, f);
    added_.reserve(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string fi = indexed(f, i);
      AddedToken t;
      t.id = r.integer(r.at(a[i], fi, "id"), fi + ".id");
      if (t.id < 0) r.fail(fi + ".id", msg("negative id ", t.id));
      t.content = r.str(a[i], fi, "content");
      t.single_word = r.flag(a[i], fi, "single_word", false);
      t.lstrip = r.flag(a[i], fi, "lstrip", false);
      t.rstrip = r.flag(a[i], fi, "rstrip", false);
      t.normalized = r.flag(a[i], fi, "normalized", true);
      t.special = r.flag(a[i], fi, "special", false);
      added_.push_back(std::move(t));
    }
    // The splitters point into added_, so they are filled once it no longer grows. HF matches the
    // tokens not normalised in the raw text first, then the normalised ones in what is left.
    for (const AddedToken& t : added_) (t.normalized ? normalized_tokens_ : non_normalized_tokens_).add(&t);
  }

  void read_normalizer(const Reader& r, const Json& n, const std::string& f) {
    if (n.is_null()) return;
    const std::string type = r.str(n, f, "type");
    if (type == "Sequence") {
      const Json& list = r.array(r.at(n, f, "normalizers"), f + ".normalizers");
      for (size_t i = 0; i < list.size(); ++i) read_normalizer(r, list[i], indexed(f + ".normalizers", i));
      return;
    }
    r.fail(f, msg("normalizer '", type, "' is not supported (null only, as GPT-2's and Llama-3's tokenizers have)"));
  }

  void read_pre_tokenizer(const Reader& r, const Json& p, const std::string& f) {
    if (p.is_null()) r.fail(f, "null; expected ByteLevel (this reader handles byte-level BPE tokenizers only)");
    const std::string type = r.str(p, f, "type");
    if (type == "Sequence") {
      const Json& list = r.array(r.at(p, f, "pretokenizers"), f + ".pretokenizers");
      for (size_t i = 0; i < list.size(); ++i) read_pre_tokenizer(r, list[i], indexed(f + ".pretokenizers", i));
    } else if (type == "ByteLevel") {
      Step s;
      s.byte_level = true;
      s.add_prefix_space = r.flag(p, f, "add_prefix_space", true);
      if (r.flag(p, f, "use_regex", true)) s.split = pretokenize::Pattern::Gpt2;
      steps_.push_back(s);
    } else if (type == "Split") {
      const Json& pattern = r.at(p, f, "pattern");
      if (!pattern.is_object() || !pattern.contains("Regex"))
        r.fail(f + ".pattern", msg("expected {\"Regex\": ...} (GPT-2's or Llama-3's split regex), got ", pattern.dump()));
      const std::string regex = r.str(pattern, f + ".pattern", "Regex");
      const auto known = pretokenize::recognise(regex);
      if (!known)
        r.fail(f + ".pattern.Regex", msg("unsupported split regex ", Json(regex).dump(), "; expected GPT-2's ",
                                         Json(pretokenize::kGpt2Pattern).dump(), " or Llama-3's ", Json(pretokenize::kLlama3Pattern).dump()));
      const std::string behavior = r.str(p, f, "behavior");
      if (behavior != "Isolated") r.fail(f + ".behavior", msg("'", behavior, "' is not supported (Isolated only)"));
      if (r.flag(p, f, "invert", false)) r.fail(f + ".invert", "true is not supported");
      Step s;
      s.split = *known;
      steps_.push_back(s);
    } else {
      r.fail(f, msg("pre-tokenizer '", type, "' is not supported (ByteLevel, Split, Sequence)"));
    }
  }

  void read_decoder(const Reader& r, const Json& d, const std::string& f) {
    if (d.is_null()) r.fail(f, "null; expected ByteLevel");
    const std::string type = r.str(d, f, "type");
    if (type == "ByteLevel") return;
    if (type == "Sequence") {
      const Json& list = r.array(r.at(d, f, "decoders"), f + ".decoders");
      for (size_t i = 0; i < list.size(); ++i) read_decoder(r, list[i], indexed(f + ".decoders", i));
      return;
    }
    r.fail(f, msg("decoder '", type, "' is not supported (ByteLevel only)"));
  }

  // Ids the special-token template puts around the text, composed over a Sequence.
  void read_post_processor(const Reader& r, const Json& p, const std::string& f) {
    if (p.is_null()) return;
    const std::string type = r.str(p, f, "type");
    std::vector<int64_t> before, after;
    if (type == "ByteLevel") {
      return;
    } else if (type == "Sequence") {
      const Json& list = r.array(r.at(p, f, "processors"), f + ".processors");
      for (size_t i = 0; i < list.size(); ++i) read_post_processor(r, list[i], indexed(f + ".processors", i));
      return;
    } else if (type == "TemplateProcessing") {
      const Json& single = r.array(r.at(p, f, "single"), f + ".single");
      const Json& specials = r.at(p, f, "special_tokens");
      bool seen_text = false;
      for (size_t i = 0; i < single.size(); ++i) {
        const std::string fi = indexed(f + ".single", i);
        if (single[i].is_object() && single[i].contains("Sequence")) {
          if (r.str(single[i]["Sequence"], fi + ".Sequence", "id") != "A") r.fail(fi, "the single-text template must use sequence A");
          seen_text = true;
        } else if (single[i].is_object() && single[i].contains("SpecialToken")) {
          const std::string name = r.str(single[i]["SpecialToken"], fi + ".SpecialToken", "id");
          const std::string fs = f + ".special_tokens[\"" + name + "\"]";
          const Json& ids = r.array(r.at(r.at(specials, f + ".special_tokens", name.c_str()), fs, "ids"), fs + ".ids");
          for (const Json& id : ids) (seen_text ? after : before).push_back(r.integer(id, fs + ".ids"));
        } else {
          r.fail(fi, msg("expected {\"Sequence\": ...} or {\"SpecialToken\": ...}, got ", single[i].dump()));
        }
      }
      if (!seen_text) r.fail(f + ".single", "no {\"Sequence\": {\"id\": \"A\"}} item");
    } else if (type == "RobertaProcessing" || type == "BertProcessing") {
      for (const char* k : {"cls", "sep"}) {
        const Json& e = r.at(p, f, k);
        if (!e.is_array() || e.size() != 2) r.fail(f + "." + k, msg("expected [token, id], got ", e.dump()));
        (k[0] == 'c' ? before : after).push_back(r.integer(e[1], f + "." + k + "[1]"));
      }
    } else {
      r.fail(f, msg("post-processor '", type, "' is not supported (TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel, Sequence)"));
    }
    prefix_.insert(prefix_.begin(), before.begin(), before.end());
    suffix_.insert(suffix_.end(), after.begin(), after.end());
  }

  void build_decode_table() {
    int64_t size = 0;
    for (const auto& [token, id] : bpe_->vocab()) size = std::max(size, id + 1);
    for (const AddedToken& t : added_) size = std::max(size, t.id + 1);
    kind_.assign(static_cast<size_t>(size), kAbsent);
    bytes_.assign(static_cast<size_t>(size), std::string());
    for (const auto& [token, id] : bpe_->vocab()) {
      kind_[static_cast<size_t>(id)] = kText;
      bytes_[static_cast<size_t>(id)] = byte_level::unspell(token);
    }
    for (const AddedToken& t : added_) {
      kind_[static_cast<size_t>(t.id)] = t.special ? kSpecial : kText;
      bytes_[static_cast<size_t>(t.id)] = byte_level::unspell(t.content);
    }
  }

  void find_eos(const Reader& r) {
    if (suffix_.size() == 1) {
      eos_ = suffix_[0];
      return;
    }
    const auto slash = path_.find_last_of('/');
    const std::string config = (slash == std::string::npos ? std::string(".") : path_.substr(0, slash)) + "/tokenizer_config.json";
    if (is_file(config)) {
      const Json c = read_json(config);
      const Json e = c.is_object() ? c.value("eos_token", Json()) : Json();
      std::string name;
      if (e.is_string()) name = e.get<std::string>();
      if (e.is_object() && e.contains("content") && e["content"].is_string()) name = e["content"].get<std::string>();
      if (!name.empty()) {
        eos_ = token_to_id(name);
        if (!eos_) throw Error(msg(config, ": eos_token '", name, "' is not a token of ", path_));
        return;
      }
    }
    for (const char* name : {"<|end_of_text|>", "<|endoftext|>", "</s>"})
      for (const AddedToken& t : added_)
        if (t.special && t.content == name) {
          eos_ = t.id;
          return;
        }
  }

  enum Kind : uint8_t { kAbsent, kText, kSpecial };

  std::string path_;
  std::unique_ptr<byte_level::Bpe> bpe_;
  std::vector<AddedToken> added_;
  AddedTokenSplitter non_normalized_tokens_, normalized_tokens_;
  std::vector<Step> steps_;
  std::vector<int64_t> prefix_, suffix_;
  std::optional<int64_t> bos_, eos_;
  std::vector<Kind> kind_;          // by id
  std::vector<std::string> bytes_;  // by id: what decode writes
};

}  // namespace

std::unique_ptr<HfTokenizer> load_hf_tokenizer(const std::string& path) {
  const std::string file = is_dir(path) ? path + "/tokenizer.json" : path;
  if (!is_file(file)) throw Error(msg(file, ": no such tokenizer.json file"));
  return std::make_unique<HfBpeTokenizer>(file);
}

}  // namespace jenga::core
