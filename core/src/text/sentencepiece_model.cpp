#include "text/sentencepiece_model.hpp"

#include "jenga/core/error.hpp"

#include <cstring>
#include <fstream>
#include <sstream>

namespace jenga::core::sentencepiece_file {
namespace {

// Protobuf wire format, just what ModelProto needs.
class Reader {
 public:
  Reader(const char* p, size_t n, const std::string& path) : p_(p), end_(p + n), path_(path) {}
  bool done() const { return p_ >= end_; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) fail("truncated varint");
      const auto b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("varint longer than 10 bytes");
  }
  Reader sub() {
    const uint64_t n = varint();
    if (n > static_cast<uint64_t>(end_ - p_)) fail("length-delimited field runs past the end");
    Reader r(p_, n, path_);
    p_ += n;
    return r;
  }
  std::string bytes() {
    Reader r = sub();
    return std::string(r.p_, r.end_);
  }
  float fixed32_float() {
    if (end_ - p_ < 4) fail("truncated float");
    float f;
    std::memcpy(&f, p_, 4);
    p_ += 4;
    return f;
  }
  void skip(int wire) {
    switch (wire) {
      case 0: varint(); break;
      case 1: advance(8); break;
      case 2: sub(); break;
      case 5: advance(4); break;
      default: fail("unsupported wire type " + std::to_string(wire));
    }
  }
  [[noreturn]] void fail(const std::string& what) const { throw Error(msg(path_, ": not a SentencePiece model (", what, ")")); }

 private:
  void advance(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) fail("truncated field");
    p_ += n;
  }
  const char* p_;
  const char* end_;
  std::string path_;
};

Piece read_piece(Reader r) {
  Piece p;
  while (!r.done()) {
    const uint64_t tag = r.varint();
    const int field = static_cast<int>(tag >> 3), wire = static_cast<int>(tag & 7);
    if (field == 1 && wire == 2) p.text = r.bytes();
    else if (field == 2 && wire == 5) p.score = r.fixed32_float();
    else if (field == 3 && wire == 0) p.type = static_cast<PieceType>(r.varint());
    else r.skip(wire);
  }
  return p;
}

}  // namespace

Model read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(msg(path, ": cannot open SentencePiece model"));
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string data = ss.str();
  Reader r(data.data(), data.size(), path);
  Model m;
  while (!r.done()) {
    const uint64_t tag = r.varint();
    const int field = static_cast<int>(tag >> 3), wire = static_cast<int>(tag & 7);
    if (field == 1 && wire == 2) {
      m.pieces.push_back(read_piece(r.sub()));
    } else if (field == 2 && wire == 2) {  // TrainerSpec
      Reader t = r.sub();
      while (!t.done()) {
        const uint64_t tt = t.varint();
        const int tf = static_cast<int>(tt >> 3), tw = static_cast<int>(tt & 7);
        // int32 fields: negative values arrive as 64-bit two's complement varints.
        const auto i32 = [&] { return static_cast<int>(static_cast<int64_t>(t.varint())); };
        if (tw != 0) t.skip(tw);
        else if (tf == 3) m.model_type = i32();
        else if (tf == 35) m.byte_fallback = t.varint() != 0;
        else if (tf == 40) m.unk_id = i32();
        else if (tf == 41) m.bos_id = i32();
        else if (tf == 42) m.eos_id = i32();
        else if (tf == 43) m.pad_id = i32();
        else t.varint();
      }
    } else if (field == 3 && wire == 2) {  // NormalizerSpec
      Reader n = r.sub();
      while (!n.done()) {
        const uint64_t nt = n.varint();
        const int nf = static_cast<int>(nt >> 3), nw = static_cast<int>(nt & 7);
        if (nf == 1 && nw == 2) m.normalizer_name = n.bytes();
        else if (nf == 2 && nw == 2) m.has_charsmap = !n.bytes().empty();
        else if (nf == 3 && nw == 0) m.add_dummy_prefix = n.varint() != 0;
        else if (nf == 4 && nw == 0) m.remove_extra_whitespaces = n.varint() != 0;
        else if (nf == 5 && nw == 0) m.escape_whitespaces = n.varint() != 0;
        else n.skip(nw);
      }
    } else {
      r.skip(wire);
    }
  }
  if (m.pieces.empty()) throw Error(msg(path, ": not a SentencePiece model (no pieces)"));
  return m;
}

}  // namespace jenga::core::sentencepiece_file
