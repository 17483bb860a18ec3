#include "jenga/core/text/tokenizer.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/text/hf_tokenizer.hpp"
#include "text/sentencepiece_model.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <unordered_map>

namespace jenga::core {
namespace {

namespace spf = sentencepiece_file;

class ByteTokenizer final : public Tokenizer {
 public:
  std::vector<int64_t> encode(const std::string& text) const override {
    std::vector<int64_t> ids;
    ids.reserve(text.size());
    for (unsigned char c : text) ids.push_back(c);
    return ids;
  }
  std::string decode(const std::vector<int64_t>& ids) const override {
    std::string out;
    out.reserve(ids.size());
    for (int64_t id : ids) {
      if (id < 0 || id > 255) throw Error(msg("byte tokenizer: id ", id, " is not a byte"));
      out += static_cast<char>(id);
    }
    return out;
  }
  int64_t vocab_size() const override { return 256; }
};

const std::string kSpace = "\xe2\x96\x81";  // U+2581, SentencePiece's visible space

// SentencePiece BPE (Llama-2's tokenizer.model): whitespace escaped to U+2581 with a dummy prefix,
// characters merged pairwise by the highest-scoring piece (leftmost on ties) until no pair is a
// piece, then leftover symbols as bytes <0xXX> (byte fallback) or unk. Identity normalisation only.
class SentencePieceBpe final : public Tokenizer {
 public:
  explicit SentencePieceBpe(const std::string& path) : m_(spf::read(path)) {
    if (m_.model_type != 2) throw Error(msg(path, ": SentencePiece model type ", m_.model_type, " (only BPE, type 2, is supported)"));
    if (m_.has_charsmap && m_.normalizer_name != "identity")
      throw Error(msg(path, ": normalisation '", m_.normalizer_name, "' is not supported (identity only)"));
    for (size_t i = 0; i < m_.pieces.size(); ++i) {
      const auto& p = m_.pieces[i];
      if (p.type == spf::PieceType::Normal || p.type == spf::PieceType::UserDefined) by_text_.emplace(p.text, static_cast<int64_t>(i));
      if (p.type == spf::PieceType::Byte) bytes_.emplace(p.text, static_cast<int64_t>(i));
    }
  }

  // SentencePiece trains pieces within words, and a word starts where a run of U+2581 starts
  // (each U+2581 starts one unless whitespace-only pieces are allowed, as in Llama-2's "▁▁"); no
  // piece spans two such words, so merging word by word gives the ids merging the whole text
  // would, in time linear in the text instead of quadratic (whole documents are packed at once).
  std::vector<int64_t> encode(const std::string& text) const override {
    std::vector<int64_t> ids;
    std::vector<std::string> word;
    const auto flush = [&] {
      if (word.empty()) return;
      encode_word(word, ids);
      word.clear();
    };
    for (auto& c : characters(normalize(text))) {
      if (c == kSpace && !word.empty() && word.back() != kSpace) flush();
      word.push_back(std::move(c));
    }
    flush();
    return ids;
  }

  // Greedy BPE over one word's symbols: the highest-scoring mergeable pair first, leftmost on ties.
  void encode_word(std::vector<std::string> sym, std::vector<int64_t>& ids) const {
    while (sym.size() > 1) {
      float best = 0;
      size_t at = sym.size();
      for (size_t i = 0; i + 1 < sym.size(); ++i) {
        const auto it = by_text_.find(sym[i] + sym[i + 1]);
        if (it == by_text_.end()) continue;
        const float s = m_.pieces[static_cast<size_t>(it->second)].score;
        if (at == sym.size() || s > best) {
          best = s;
          at = i;
        }
      }
      if (at == sym.size()) break;
      sym[at] += sym[at + 1];
      sym.erase(sym.begin() + static_cast<std::ptrdiff_t>(at) + 1);
    }
    for (const auto& s : sym) {
      if (const auto it = by_text_.find(s); it != by_text_.end()) {
        ids.push_back(it->second);
        continue;
      }
      if (!m_.byte_fallback) {
        ids.push_back(m_.unk_id);
        continue;
      }
      for (unsigned char b : s) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        const auto bt = bytes_.find(name);
        ids.push_back(bt == bytes_.end() ? m_.unk_id : bt->second);
      }
    }
  }

  std::string decode(const std::vector<int64_t>& ids) const override {
    std::string out;
    for (int64_t id : ids) {
      if (id < 0 || id >= vocab_size()) throw Error(msg("sentencepiece decode: id ", id, " outside the vocabulary of ", vocab_size()));
      const auto& p = m_.pieces[static_cast<size_t>(id)];
      switch (p.type) {
        case spf::PieceType::Control:
        case spf::PieceType::Unused: break;
        case spf::PieceType::Unknown: out += " \xe2\x81\x87 "; break;
        case spf::PieceType::Byte: out += static_cast<char>(std::stoi(p.text.substr(3, 2), nullptr, 16)); break;
        default: out += p.text;
      }
    }
    std::string text;
    for (size_t i = 0; i < out.size();) {
      if (out.compare(i, kSpace.size(), kSpace) == 0) {
        text += ' ';
        i += kSpace.size();
      } else {
        text += out[i++];
      }
    }
    if (m_.add_dummy_prefix && !text.empty() && text[0] == ' ') text.erase(0, 1);
    return text;
  }

  int64_t vocab_size() const override { return static_cast<int64_t>(m_.pieces.size()); }
  std::optional<int64_t> bos_id() const override { return m_.bos_id >= 0 ? std::optional<int64_t>(m_.bos_id) : std::nullopt; }
  std::optional<int64_t> eos_id() const override { return m_.eos_id >= 0 ? std::optional<int64_t>(m_.eos_id) : std::nullopt; }

 private:
  std::string normalize(const std::string& in) const {
    std::string s = in;
    if (m_.remove_extra_whitespaces) {
      std::string t;
      bool space = true;  // drops leading spaces
      for (char c : s) {
        if (c == ' ') {
          if (!space) t += ' ';
          space = true;
        } else {
          t += c;
          space = false;
        }
      }
      while (!t.empty() && t.back() == ' ') t.pop_back();
      s = t;
    }
    if (s.empty()) return s;
    if (m_.add_dummy_prefix) s = " " + s;
    if (!m_.escape_whitespaces) return s;
    std::string out;
    for (char c : s) out += c == ' ' ? kSpace : std::string(1, c);
    return out;
  }

  // UTF-8 characters (a malformed byte stands alone, to become a byte piece).
  static std::vector<std::string> characters(const std::string& s) {
    std::vector<std::string> out;
    for (size_t i = 0; i < s.size();) {
      const auto c = static_cast<unsigned char>(s[i]);
      size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
      if (i + n > s.size()) n = 1;
      for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) n = 1;
      out.push_back(s.substr(i, n));
      i += n;
    }
    return out;
  }

  spf::Model m_;
  std::unordered_map<std::string, int64_t> by_text_, bytes_;
};

bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

std::unique_ptr<Tokenizer> make_byte_tokenizer() { return std::make_unique<ByteTokenizer>(); }

std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& model_path) {
  if (!is_file(model_path)) throw Error(msg(model_path, ": no such SentencePiece model file"));
  return std::make_unique<SentencePieceBpe>(model_path);
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir, int64_t vocab_size) {
  if (is_file(dir) && dir.size() >= 5 && dir.compare(dir.size() - 5, 5, ".json") == 0) return load_hf_tokenizer(dir);
  const std::string sp = dir + "/tokenizer.model", hf = dir + "/tokenizer.json";
  if (is_file(sp)) {
    try {
      return load_sentencepiece(sp);
    } catch (const Error& e) {
      if (!is_file(hf)) throw;
      try {
        return load_hf_tokenizer(hf);
      } catch (const Error& e2) {
        throw Error(msg(e.what(), "; and ", e2.what()));
      }
    }
  }
  if (is_file(hf)) return load_hf_tokenizer(hf);
  if (vocab_size == 256) return make_byte_tokenizer();
  throw Error(msg(dir, ": no tokenizer.model or tokenizer.json, and a vocabulary of ", vocab_size, " is not bytes"));
}

}  // namespace jenga::core
