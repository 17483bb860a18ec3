#include "text/byte_level_bpe.hpp"

#include "jenga/core/error.hpp"
#include "text/utf8.hpp"

#include <array>
#include <cstdio>
#include <queue>

namespace jenga::core::byte_level {
namespace {

// GPT-2's bytes_to_unicode: printable Latin-1 bytes spell themselves, the other 68 bytes take
// U+0100.. in byte order, so no symbol is whitespace or a control character.
struct Tables {
  std::array<char32_t, 256> to_char{};
  std::array<std::string, 256> spelled;  // UTF-8 of to_char
  std::unordered_map<char32_t, unsigned char> to_byte;
  Tables() {
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_char[b] = printable ? static_cast<char32_t>(b) : next++;
      utf8::append(spelled[b], to_char[b]);
      to_byte.emplace(to_char[b], static_cast<unsigned char>(b));
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

uint64_t pair_key(int32_t a, int32_t b) { return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b); }

}  // namespace

char32_t byte_to_char(unsigned char b) { return tables().to_char[b]; }

std::string spell(std::string_view bytes) {
  const auto& t = tables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += t.spelled[b];
  return out;
}

std::string unspell(const std::string& token) {
  const auto& t = tables();
  std::string out;
  for (size_t i = 0; i < token.size();) {
    const auto c = utf8::decode(token, i);
    const auto it = c.cp == utf8::kInvalid ? t.to_byte.end() : t.to_byte.find(c.cp);
    if (it == t.to_byte.end()) return token;
    out += static_cast<char>(it->second);
    i += c.len;
  }
  return out;
}

Bpe::Bpe(std::unordered_map<std::string, int64_t> vocab, const std::vector<std::pair<std::string, std::string>>& merges,
         BpeOptions options, const std::string& where)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  const auto& t = tables();
  for (int b = 0; b < 256; ++b) {
    const auto it = vocab_.find(t.spelled[b]);
    byte_id_[b] = it == vocab_.end() ? -1 : static_cast<int32_t>(it->second);
  }
  if (options_.ignore_merges) {
    for (const auto& [token, id] : vocab_) {
      std::string bytes = unspell(token);
      if (spell(bytes) == token) by_bytes_.emplace(std::move(bytes), static_cast<int32_t>(id));
    }
  }
  if (options_.unk_token) {
    const auto it = vocab_.find(*options_.unk_token);
    if (it == vocab_.end()) throw Error(msg(where, ": model.unk_token '", *options_.unk_token, "' is not in model.vocab"));
    unk_id_ = static_cast<int32_t>(it->second);
  }
  const auto id_of = [&](const std::string& token, size_t rank) {
    const auto it = vocab_.find(token);
    if (it == vocab_.end()) throw Error(msg(where, ": model.merges[", rank, "] needs '", token, "', which is not in model.vocab"));
    return static_cast<int32_t>(it->second);
  };
  merges_.reserve(merges.size());
  for (size_t r = 0; r < merges.size(); ++r) {
    const auto& [a, b] = merges[r];
    const int32_t left = id_of(a, r), right = id_of(b, r), merged = id_of(a + b, r);
    merges_[pair_key(left, right)] = {static_cast<int32_t>(r), merged};  // like HF, a repeated pair takes its last rank
  }
}

void Bpe::encode(std::string_view word, std::vector<int64_t>& out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    const auto it = by_bytes_.find(std::string(word));
    if (it != by_bytes_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  const bool cacheable = word.size() <= kCacheMaxWord;
  std::string key;
  if (cacheable) {
    key.assign(word);
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = cache_.find(key);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  auto ids = merge_word(word);
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() >= kCacheEntries) cache_.clear();
    cache_.emplace(std::move(key), std::move(ids));
  }
}

// HF's Word::merge_all: a heap of mergeable neighbours by (rank, position); a popped entry is
// skipped when its left symbol was merged away or no longer pairs with its right neighbour.
std::vector<int32_t> Bpe::merge_word(std::string_view word) const {
  struct Symbol {
    int32_t id;
    int32_t prev, next;  // neighbours, -1 at the ends
    bool alive;
  };
  std::vector<Symbol> sym;
  sym.reserve(word.size());
  const auto add = [&](int32_t id) {
    const auto n = static_cast<int32_t>(sym.size());
    sym.push_back({id, n - 1, -1, true});
    if (n > 0) sym[static_cast<size_t>(n) - 1].next = n;
  };
  // Symbols outside the vocabulary: byte fallback, else unk (fused when asked), else dropped.
  bool pending_unk = false;
  for (unsigned char b : word) {
    if (byte_id_[b] >= 0) {
      if (pending_unk) add(*unk_id_), pending_unk = false;
      add(byte_id_[b]);
      continue;
    }
    if (options_.byte_fallback) {
      std::vector<int32_t> ids;
      for (unsigned char sb : tables().spelled[b]) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", sb);
        const auto it = vocab_.find(name);
        if (it == vocab_.end()) break;
        ids.push_back(static_cast<int32_t>(it->second));
      }
      if (ids.size() == tables().spelled[b].size()) {
        if (pending_unk) add(*unk_id_), pending_unk = false;
        for (int32_t id : ids) add(id);
        continue;
      }
    }
    if (!unk_id_) continue;
    if (pending_unk && !options_.fuse_unk) add(*unk_id_);
    pending_unk = true;
  }
  if (pending_unk) add(*unk_id_);

  struct Candidate {
    int32_t rank, pos, merged;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  const auto consider = [&](int32_t pos) {
    if (pos < 0 || sym[static_cast<size_t>(pos)].next < 0) return;
    const auto it = merges_.find(pair_key(sym[static_cast<size_t>(pos)].id, sym[static_cast<size_t>(sym[static_cast<size_t>(pos)].next)].id));
    if (it != merges_.end()) heap.push({it->second.first, pos, it->second.second});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(sym.size()); ++i) consider(i);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    Symbol& left = sym[static_cast<size_t>(c.pos)];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = sym[static_cast<size_t>(left.next)];
    const auto it = merges_.find(pair_key(left.id, right.id));
    if (it == merges_.end() || it->second.second != c.merged) continue;
    left.id = c.merged;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) sym[static_cast<size_t>(right.next)].prev = c.pos;
    consider(left.prev);
    consider(c.pos);
  }
  std::vector<int32_t> ids;
  for (int32_t i = sym.empty() ? -1 : 0; i >= 0; i = sym[static_cast<size_t>(i)].next) ids.push_back(sym[static_cast<size_t>(i)].id);
  return ids;
}

}  // namespace jenga::core::byte_level
