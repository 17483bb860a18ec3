// The two pre-tokenizer regexes of byte-level BPE tokenizers (GPT-2's and Llama-3's), matched by
// hand-written code instead of a regex engine: same splits as HF tokenizers (Oniguruma), any input.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jenga::core::pretokenize {

enum class Pattern { Gpt2, Llama3 };

// The patterns exactly as tokenizer.json spells them.
extern const char* const kGpt2Pattern;
extern const char* const kLlama3Pattern;

// Which known pattern `regex` is (exact string compare); nullopt for any other.
std::optional<Pattern> recognise(const std::string& regex);

// Appends to `out` the pieces of `text` that HF's Split(pattern, behavior="Isolated") makes: the
// matches, left to right, which cover the whole text (both patterns match every character).
// Malformed UTF-8 bytes count as characters that are neither letters, numbers nor whitespace.
void split(Pattern pattern, std::string_view text, std::vector<std::string_view>& out);

}  // namespace jenga::core::pretokenize
