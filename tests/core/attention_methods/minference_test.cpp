// MInference's patterns on planted structure: vertical-slash finds planted columns and diagonals,
// block-sparse finds planted block pairs, the offline search picks the pattern a head was built
// with, pattern files round-trip and name where they are wrong.
#include "jenga/core/attention/minference.hpp"
#include "jenga/core/attention/selection.hpp"
#include "jenga/core/error.hpp"

#include "../attention/layouts.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace jenga;
namespace mi = jenga::core::minference;
using Lists = std::vector<std::vector<int32_t>>;

namespace {

using test::expect_error;

core::LayoutShape shape(int64_t heads, int64_t seq_q, int64_t seq_k, int64_t block = 64) {
  return test::layout_shape(heads, seq_q, seq_k, block, block);
}

at::Tensor unit_rows(int64_t n, int64_t d) {
  const auto r = at::randn({n, d}, at::kFloat);
  return r / r.norm(2, -1, true);
}

constexpr int64_t kS = 512, kD = 64;
const double kScale = 1.0 / std::sqrt(static_cast<double>(kD));

// Head with diagonals at offsets 200 and verticals at keys 300 and 333: q_i = 8 r_i + 8 u,
// k_j = 8 r_{j+200} (+ 8 u at the vertical keys), r random unit vectors: only planted pairs score 64.
std::pair<at::Tensor, at::Tensor> vertical_slash_head() {
  const auto r = unit_rows(kS + 200, kD), u = unit_rows(1, kD);
  auto q = 8 * r.narrow(0, 0, kS) + 8 * u;
  auto k = 8 * r.narrow(0, 200, kS);
  for (const int64_t c : {300, 333}) k[c].add_(8 * u[0]);
  return {q.view({kS, 1, kD}), k.view({kS, 1, kD})};
}

// Head whose query blocks 4, 5, 6, 7 read key blocks 0, 3, 1, 4 (no common offset, so no slash
// explains it): q_i = 8 u_{b(i)}, key block m carries the direction of the query block reading it.
std::pair<at::Tensor, at::Tensor> block_head() {
  const auto u = unit_rows(12, kD);
  const auto blk = at::div(at::arange(kS, at::kLong), 64, "floor");
  const auto key_dir = at::tensor({4, 6, 8, 5, 7, 9, 10, 11}, at::kLong).index_select(0, blk);
  return {(8 * u.index_select(0, blk)).view({kS, 1, kD}), (8 * u.index_select(0, key_dir)).view({kS, 1, kD})};
}

// Sinks plus a local window: q_i, k_j carry 80-logit phases cos(pi (i - j) / 512) (mass within
// ~50 tokens); the first 16 keys carry only a sink direction both sides share (logit 78).
std::pair<at::Tensor, at::Tensor> a_shape_head() {
  const double A = std::sqrt(80.0 / kScale), B = std::sqrt(78.0 / kScale);
  const auto pos = at::arange(kS, at::kFloat) * (M_PI / kS);
  auto q = at::zeros({kS, kD}), k = at::zeros({kS, kD});
  q.select(1, 0).copy_(A * pos.cos());
  q.select(1, 1).copy_(A * pos.sin());
  q.select(1, 2).fill_(B);
  k.select(1, 0).copy_(A * pos.cos());
  k.select(1, 1).copy_(A * pos.sin());
  k.narrow(0, 0, 16).zero_();
  k.narrow(0, 0, 16).select(1, 2).fill_(B);
  return {q.view({kS, 1, kD}), k.view({kS, 1, kD})};
}

}  // namespace

TEST(MInference, AShapeCountsTokens) {
  const auto s = shape(2, 512, 512);
  const auto L = mi::a_shape(s, {64, 128});  // 1 sink block, 2 local blocks
  L.validate();
  const auto want = core::a_shape_layout(s, 1, 2);
  EXPECT_EQ(test::lists(L.block_offsets, L.block_indices), test::lists(want.block_offsets, want.block_indices));
  EXPECT_EQ(test::lists(L.block_offsets, L.block_indices)[7], (std::vector<int32_t>{0, 6, 7}));
}

TEST(MInference, ScaledBudgetsKeepTheFraction) {
  mi::HeadPattern p;
  const auto s = mi::scaled(p, 4096);  // 1/32 of 128K
  EXPECT_EQ(s.vertical_slash.vertical, 32);
  EXPECT_EQ(s.vertical_slash.slash, 191);
  EXPECT_EQ(s.block_sparse.top_k_blocks, 4);
  EXPECT_EQ(s.a_shape.local_tokens, 128);
  EXPECT_EQ(s.a_shape.sink_tokens, 128);
  EXPECT_EQ(mi::scaled(p, 1 << 20).vertical_slash.vertical, 1000);  // never scaled up
}

TEST(MInference, VerticalSlashLayoutByHand) {
  const auto s = shape(1, 256, 256);
  // Offset 100: query block b (keys 64b-100 .. 64b-37) crosses blocks b-2..b-1; diagonals always.
  auto L = mi::vertical_slash_layout(s, at::tensor({10, 200}, at::kLong).view({1, 2}), at::tensor({100}, at::kLong).view({1, 1}));
  L.validate();
  EXPECT_EQ(test::lists(L.block_offsets, L.block_indices), (Lists{{0}, {0, 1}, {0, 1, 2}, {1, 2, 3}}));
  EXPECT_EQ(test::lists(L.column_offsets, L.columns), (Lists{{}, {}, {}, {10}}));  // others inside listed blocks or later
  // Clustered verticals (12 in key block 2, threshold 10) become the block itself.
  auto cols = at::cat({at::tensor({10}, at::kLong), at::arange(130, 142, at::kLong)}).view({1, -1});
  L = mi::vertical_slash_layout(s, cols, at::zeros({1, 0}, at::kLong), 10);
  L.validate();
  EXPECT_EQ(test::lists(L.block_offsets, L.block_indices), (Lists{{0}, {1}, {2}, {2, 3}}));
  EXPECT_EQ(test::lists(L.column_offsets, L.columns), (Lists{{}, {10}, {10}, {10}}));
}

TEST(MInference, VerticalSlashFindsPlantedLines) {
  at::manual_seed(1);
  auto [q1, k1] = vertical_slash_head();
  // Two query heads share the key head (GQA); the second query head has the same structure.
  const auto q = at::cat({q1, q1}, 1), k = k1;
  const auto e = mi::estimate_vertical_slash(q, k, 64, kScale);
  ASSERT_EQ(e.vertical.sizes(), (at::IntArrayRef{2, kS}));
  mi::VerticalSlashParams p;
  p.vertical = 2;
  p.slash = 1;
  p.keep_first_columns = 0;
  p.keep_nearest_slashes = 0;
  const auto [cols, offs] = mi::top_vertical_slash(e, p);
  EXPECT_EQ(cols[0][0].item<int64_t>(), 300);
  EXPECT_EQ(cols[0][1].item<int64_t>(), 333);
  EXPECT_EQ(offs[1][0].item<int64_t>(), 200);
  const auto L = mi::vertical_slash(q, k, p, kScale);
  L.validate();
  const auto mask = core::layout_mask(L);
  for (int64_t i = 200; i < kS; i += 7) EXPECT_TRUE(mask[0][i][i - 200].item<bool>()) << "query " << i;
  for (int64_t i = 333; i < kS; i += 5) {
    EXPECT_TRUE(mask[1][i][300].item<bool>()) << "query " << i;
    EXPECT_TRUE(mask[1][i][333].item<bool>()) << "query " << i;
  }
  const auto recall = core::attention_recall(q, k, L, at::arange(kS - 64, kS, at::kLong), kScale);
  EXPECT_GT(recall.min().item<double>(), 0.8) << recall;
  EXPECT_LT(L.density(), 0.6);
}

TEST(MInference, BlockSparseFindsPlantedBlocks) {
  at::manual_seed(2);
  const auto [q, k] = block_head();
  const auto scores = mi::block_scores(q, k);
  ASSERT_EQ(scores.sizes(), (at::IntArrayRef{1, 8, 8}));
  const auto L = mi::block_sparse(q, k, {2});
  L.validate();
  const auto rows = test::lists(L.block_offsets, L.block_indices);
  EXPECT_EQ(rows[4], (std::vector<int32_t>{0, 4}));
  EXPECT_EQ(rows[5], (std::vector<int32_t>{3, 5}));
  EXPECT_EQ(rows[6], (std::vector<int32_t>{1, 6}));
  EXPECT_EQ(rows[7], (std::vector<int32_t>{4, 7}));
  // Ragged sequences pool the tokens they have.
  const auto r = mi::block_scores(q.narrow(0, 0, 100), k.narrow(0, 0, 100));
  EXPECT_EQ(r.sizes(), (at::IntArrayRef{1, 2, 2}));
}

TEST(MInference, LayoutForHeadsJoinsPerHeadChoices) {
  at::manual_seed(3);
  const auto q = at::randn({256, 4, 16}), k = at::randn({256, 2, 16});
  std::vector<mi::HeadPattern> heads(4);
  heads[0].pattern = mi::Pattern::AShape;
  heads[0].a_shape = {64, 64};
  heads[1].pattern = mi::Pattern::BlockSparse;
  heads[1].block_sparse.top_k_blocks = 1;
  heads[2].vertical_slash.vertical = 8;
  heads[2].vertical_slash.slash = 16;
  heads[3] = heads[1];
  const auto L = mi::layout_for_heads(q, k, heads, 0.25);
  L.validate();
  EXPECT_EQ(L.heads, 4);
  EXPECT_TRUE(L.has_columns());
  const auto rows = test::lists(L.block_offsets, L.block_indices);
  EXPECT_EQ(rows[3], (std::vector<int32_t>{0, 3}));  // head 0: sink + diagonal
  EXPECT_EQ(rows[4 + 3], (std::vector<int32_t>{3}));  // head 1: the diagonal only
  EXPECT_EQ(test::lists(L.column_offsets, L.columns)[3], std::vector<int32_t>{});  // A-shape rows have no columns
  expect_error([&] { mi::layout_for_heads(q, k, {heads[0]}, 0.25); }, "one per query head");
}

TEST(MInference, LayoutForHeadsEqualsHeadByHead) {
  // Heads are laid out in runs of one pattern; each head must get what it gets alone, whether the
  // run covers whole GQA groups (a view of k) or not (gathered keys).
  at::manual_seed(5);
  const auto q = at::randn({320, 6, 16}), k = at::randn({320, 3, 16});
  std::vector<mi::HeadPattern> heads(6);
  for (auto& h : heads) {
    h.vertical_slash.vertical = 12;
    h.vertical_slash.slash = 20;
  }
  heads[3].pattern = mi::Pattern::BlockSparse;
  heads[3].block_sparse.top_k_blocks = 2;
  const auto L = mi::layout_for_heads(q, k, heads, 0.25);
  L.validate();
  std::vector<core::SparseLayout> alone;
  for (int64_t h = 0; h < 6; ++h) {
    const auto qh = q.narrow(1, h, 1), kh = k.narrow(1, h / 2, 1);
    alone.push_back(heads[h].pattern == mi::Pattern::BlockSparse ? mi::block_sparse(qh, kh, heads[h].block_sparse)
                                                                  : mi::vertical_slash(qh, kh, heads[h].vertical_slash, 0.25));
  }
  const auto ref = core::concat_heads(alone);
  EXPECT_EQ(test::lists(L.block_offsets, L.block_indices), test::lists(ref.block_offsets, ref.block_indices));
  EXPECT_EQ(test::lists(L.column_offsets, L.columns), test::lists(ref.column_offsets, ref.columns));
}

TEST(MInference, SearchPicksThePlantedPatternAndRoundTrips) {
  at::manual_seed(4);
  const auto [q0, k0] = vertical_slash_head();
  const auto [q1, k1] = block_head();
  const auto [q2, k2] = a_shape_head();
  const auto q = at::cat({q0, q1, q2}, 1), k = at::cat({k0, k1, k2}, 1);
  mi::SearchOptions o;
  mi::HeadPattern a, v, b;
  a.pattern = mi::Pattern::AShape;
  a.a_shape = {64, 128};
  v.pattern = mi::Pattern::VerticalSlash;
  v.vertical_slash.vertical = 4;
  v.vertical_slash.slash = 2;
  v.vertical_slash.keep_first_columns = 0;
  v.vertical_slash.keep_nearest_slashes = 0;
  b.pattern = mi::Pattern::BlockSparse;
  b.block_sparse.top_k_blocks = 3;
  o.candidates = {a, v, b};
  o.eval_queries = 128;
  o.spread = true;
  const auto choice = mi::search_patterns(q, k, o, kScale);
  ASSERT_EQ(choice.size(), 3u);
  for (size_t h = 0; h < 3; ++h) std::printf("head %zu: %s recall %.4f density %.4f\n", h, mi::pattern_name(choice[h].pattern.pattern).c_str(), choice[h].recall, choice[h].density);
  EXPECT_EQ(choice[0].pattern.pattern, mi::Pattern::VerticalSlash);
  EXPECT_EQ(choice[1].pattern.pattern, mi::Pattern::BlockSparse);
  EXPECT_EQ(choice[2].pattern.pattern, mi::Pattern::AShape);
  for (const auto& c : choice) EXPECT_GT(c.recall, 0.8);

  const std::string path = std::string(JENGA_BINARY_DIR) + "/attention_methods_patterns.json";
  mi::PatternFile file{{0, choice}, {5, choice}};
  mi::write_pattern_file(path, file);
  const auto back = mi::read_pattern_file(path);
  ASSERT_EQ(back.size(), 2u);
  ASSERT_EQ(back.at(5).size(), 3u);
  for (size_t h = 0; h < 3; ++h) {
    EXPECT_EQ(back.at(5)[h].pattern.pattern, choice[h].pattern.pattern);
    EXPECT_DOUBLE_EQ(back.at(5)[h].recall, choice[h].recall);
  }
  EXPECT_EQ(back.at(0)[0].pattern.vertical_slash.vertical, 4);
  EXPECT_EQ(back.at(0)[1].pattern.block_sparse.top_k_blocks, 3);
  EXPECT_EQ(back.at(0)[2].pattern.a_shape.local_tokens, 128);
  // The file drives the layout a model hook builds.
  std::vector<mi::HeadPattern> heads;
  for (const auto& c : back.at(5)) heads.push_back(c.pattern);
  mi::layout_for_heads(q, k, heads, kScale).validate();
  std::remove(path.c_str());
}

TEST(MInference, PatternFileErrorsSayWhere) {
  const std::string path = std::string(JENGA_BINARY_DIR) + "/attention_methods_bad.json";
  const auto write = [&](const std::string& text) {
    std::ofstream(path) << text;
  };
  write("{\n  \"0\": {\n    \"0\": {\"pattern\": \"a_shape\",, }\n  }\n}\n");
  expect_error([&] { mi::read_pattern_file(path); }, "attention_methods_bad.json:3:");
  write(R"({"0": {"0": {"pattern": "diagonal", "params": {}}}})");
  expect_error([&] { mi::read_pattern_file(path); }, "/0/0/pattern: unknown pattern \"diagonal\"");
  write(R"({"0": {"0": {"pattern": "vertical_slash", "params": {"vertical": 10}}}})");
  expect_error([&] { mi::read_pattern_file(path); }, "/0/0/params: missing \"slash\"");
  write(R"({"0": {"0": {"pattern": "block_sparse", "params": {"top_k_blocks": -3}}}})");
  expect_error([&] { mi::read_pattern_file(path); }, "/0/0/params/top_k_blocks: expected a non-negative integer");
  write(R"({"0": {"0": {"pattern": "block_sparse", "params": {"top_k": 3}}}})");
  expect_error([&] { mi::read_pattern_file(path); }, "unknown key \"top_k\"");
  write(R"({"0": {"1": {"pattern": "block_sparse", "params": {"top_k_blocks": 3}}}})");
  expect_error([&] { mi::read_pattern_file(path); }, "head 0 is missing");
  write(R"({"x": {}})");
  expect_error([&] { mi::read_pattern_file(path); }, "layer key \"x\"");
  std::remove(path.c_str());
  expect_error([&] { mi::read_pattern_file(path); }, "cannot open");
}

TEST(MInference, SlashBandsAreExactOnRaggedChunks) {
  // A pre-fill chunk (200 queries after 100 cached keys, 64-blocks ragged at both ends): every pair
  // on a chosen diagonal is attended, and every listed block is the diagonal or crosses one.
  at::manual_seed(10);
  const auto s = shape(2, 200, 300);
  const auto offs = at::stack({at::tensor({0, 7, 90, 255}, at::kLong), at::tensor({3, 64, 65, 299}, at::kLong)});
  const auto L = mi::vertical_slash_layout(s, at::zeros({2, 0}, at::kLong), offs);
  L.validate();
  const auto mask = core::layout_mask(L);
  const auto rows = test::lists(L.block_offsets, L.block_indices);
  for (int64_t h = 0; h < 2; ++h) {
    std::vector<int64_t> o;
    for (int64_t i = 0; i < 4; ++i) o.push_back(offs[h][i].item<int64_t>());
    for (int64_t i = 0; i < s.seq_q; ++i)
      for (const int64_t d : o) {
        const int64_t c = s.q_offset() + i - d;
        if (c >= 0) {
          EXPECT_TRUE(mask[h][i][c].item<bool>()) << "head " << h << " query " << i << " offset " << d;
        }
      }
    for (int64_t b = 0; b < s.q_blocks(); ++b) {
      const int64_t p0 = s.first_position(b), p1 = s.last_position(b);
      for (const int32_t j : rows[h * s.q_blocks() + b]) {
        bool crossed = j >= p0 / 64 && j <= p1 / 64;
        for (int64_t p = p0; p <= p1 && !crossed; ++p)
          for (const int64_t d : o) crossed = crossed || (p - d >= j * 64 && p - d < std::min<int64_t>(j * 64 + 64, 300));
        EXPECT_TRUE(crossed) << "head " << h << " query block " << b << " lists block " << j << " for no diagonal";
      }
    }
  }
}
