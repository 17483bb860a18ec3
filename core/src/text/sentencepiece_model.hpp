// A SentencePiece model file (protobuf ModelProto) read without protobuf: the pieces with their
// scores and types, and the trainer/normalizer settings encoding depends on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace jenga::core::sentencepiece_file {

enum class PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

struct Piece {
  std::string text;
  float score = 0;
  PieceType type = PieceType::Normal;
};

struct Model {
  std::vector<Piece> pieces;
  int model_type = 1;  // 1 unigram, 2 BPE, 3 word, 4 char
  bool byte_fallback = false;
  int unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
  bool add_dummy_prefix = true, remove_extra_whitespaces = true, escape_whitespaces = true;
  std::string normalizer_name;
  bool has_charsmap = false;  // a precompiled normalisation map (not applied here)
};

// Error naming the path on a truncated or malformed file.
Model read(const std::string& path);

}  // namespace jenga::core::sentencepiece_file
