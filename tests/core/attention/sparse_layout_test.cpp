// The sparse layout: builders against hand-worked lists, validation errors, density against the
// materialised mask, and the key-major transpose the backward kernel walks.
#include "attention/block_sparse_ops.hpp"
#include "jenga/core/attention/sparse_layout.hpp"
#include "jenga/core/error.hpp"
#include "layouts.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace jenga;
using Lists = std::vector<std::vector<int32_t>>;

namespace {

using test::layout_shape;
using test::expect_error;

core::SparseLayout by_hand(const core::LayoutShape& s, std::vector<int32_t> offsets, std::vector<int32_t> blocks) {
  core::SparseLayout L;
  static_cast<core::LayoutShape&>(L) = s;
  L.block_offsets = at::tensor(offsets, at::kInt);
  L.block_indices = at::tensor(blocks, at::kInt);
  return L;
}

}  // namespace

TEST(SparseLayout, DenseCausalListsEveryVisibleBlock) {
  const auto L = core::dense_causal_layout(layout_shape(2, 200, 200));  // 4 query blocks, the last ragged
  L.validate();
  EXPECT_EQ(test::lists(L.block_offsets, L.block_indices), (Lists{{0}, {0, 1}, {0, 1, 2}, {0, 1, 2, 3}, {0}, {0, 1}, {0, 1, 2}, {0, 1, 2, 3}}));
  EXPECT_EQ(L.causal_pairs(), 2 * 200 * 201 / 2);
  EXPECT_EQ(L.attended_pairs(), L.causal_pairs());
  EXPECT_DOUBLE_EQ(L.density(), 1.0);
  EXPECT_FALSE(L.has_columns());
}

TEST(SparseLayout, QueriesAreTheLastPositions) {
  // 70 queries at key positions 130..199, blocks of 128 queries: row 0 = positions 130..199
  // (key blocks 2, 3: 128..191, 192..199 ... ); the row can see key blocks 0..3.
  const auto s = layout_shape(1, 70, 200, 128, 64);
  EXPECT_EQ(s.q_blocks(), 1);
  EXPECT_EQ(s.first_position(0), 130);
  EXPECT_EQ(s.last_position(0), 199);
  const auto L = core::dense_causal_layout(s);
  EXPECT_EQ(test::lists(L.block_offsets, L.block_indices), (Lists{{0, 1, 2, 3}}));
  EXPECT_EQ(L.attended_pairs(), 70 * 131 + 70 * 69 / 2);
  // Decode: one query at the end sees everything.
  const auto d = core::dense_causal_layout(layout_shape(3, 1, 300));
  EXPECT_EQ(test::lists(d.block_offsets, d.block_indices), (Lists{{0, 1, 2, 3, 4}, {0, 1, 2, 3, 4}, {0, 1, 2, 3, 4}}));
  EXPECT_EQ(d.attended_pairs(), 3 * 300);
}

TEST(SparseLayout, AShapeIsSinksPlusTheLocalWindow) {
  const auto L = core::a_shape_layout(layout_shape(1, 640, 640), /*sink_blocks=*/1, /*local_blocks=*/2);
  L.validate();
  EXPECT_EQ(test::lists(L.block_offsets, L.block_indices),
            (Lists{{0}, {0, 1}, {0, 1, 2}, {0, 2, 3}, {0, 3, 4}, {0, 4, 5}, {0, 5, 6}, {0, 6, 7}, {0, 7, 8}, {0, 8, 9}}));
  // 128-query rows over 64-key blocks: both diagonal blocks plus one before them.
  const auto W = core::a_shape_layout(layout_shape(1, 640, 640, 128, 64), 1, 2);
  EXPECT_EQ(test::lists(W.block_offsets, W.block_indices), (Lists{{0, 1}, {0, 1, 2, 3}, {0, 3, 4, 5}, {0, 5, 6, 7}, {0, 7, 8, 9}}));
  expect_error([&] { core::a_shape_layout(layout_shape(1, 64, 64), -1, 1); }, "sink_blocks");
}

TEST(SparseLayout, BlockMaskBecomesCsrAndFutureBlocksAreErrors) {
  const auto s = layout_shape(2, 192, 192);
  auto mask = at::zeros({2, 3, 3}, at::kBool);
  mask[0][2][0] = true;
  mask[0][2][2] = true;
  mask[1][1][1] = true;
  const auto L = core::layout_from_block_mask(mask, s);
  L.validate();
  EXPECT_EQ(test::lists(L.block_offsets, L.block_indices), (Lists{{}, {}, {0, 2}, {}, {1}, {}}));
  mask[1][0][2] = true;  // query block 0 ends at position 63; key block 2 starts at 128
  expect_error([&] { core::layout_from_block_mask(mask, s); }, "non-causal");
  expect_error([&] { core::layout_from_block_mask(at::zeros({2, 3, 4}, at::kBool), s); }, "[2, 3, 4]");
}

TEST(SparseLayout, TopKKeepsTheDiagonalThenTheBestBlocks) {
  const auto s = layout_shape(1, 256, 256);
  auto scores = at::zeros({1, 4, 4});
  scores[0][3][0] = 5.0;  // row 3: block 0 best, then 1
  scores[0][3][1] = 4.0;
  scores[0][3][2] = -1.0;
  scores[0][2][1] = 9.0;
  scores[0][1][3] = 100.0;  // not visible from row 1: ignored
  const auto L = core::topk_layout(scores, 2, s);
  L.validate();
  EXPECT_EQ(test::lists(L.block_offsets, L.block_indices), (Lists{{0}, {0, 1}, {1, 2}, {0, 3}}));
  const auto N = core::topk_layout(scores, 2, s, /*keep_diagonal=*/false);
  EXPECT_EQ(test::lists(N.block_offsets, N.block_indices)[3], (std::vector<int32_t>{0, 1}));
  // A fraction of each row's visible blocks: ceil(0.5 * (b + 1)), the diagonal among them.
  const auto F = core::topk_fraction_layout(scores, 0.5, s);
  EXPECT_EQ(test::lists(F.block_offsets, F.block_indices), (Lists{{0}, {1}, {1, 2}, {0, 3}}));
  expect_error([&] { core::topk_fraction_layout(scores, 1.5, s); }, "fraction");
}

TEST(SparseLayout, ColumnsSkipFutureListedAndRepeatedKeys) {
  const auto s = layout_shape(1, 256, 256);
  const auto base = core::a_shape_layout(s, 0, 1);  // the diagonal only
  const auto cols = at::tensor({200, 5, -1, 70, 5, 130, 64}, at::kLong).view({1, -1});
  const auto L = core::with_columns(base, cols);
  L.validate();
  // Row 0 (queries 0..63): 5 (64, 70, 130, 200 after it; block 0 is listed though: 5 dropped).
  // Row 1 (64..127): 5; 64 and 70 are in its listed block 1. Row 2: 5, 64, 70. Row 3: 5, 64, 70, 130.
  EXPECT_EQ(test::lists(L.column_offsets, L.columns), (Lists{{}, {5}, {5, 64, 70}, {5, 64, 70, 130}}));
  // Dense causal attention by another route: diagonal blocks plus every earlier key as a column.
  const auto all = core::with_columns(base, at::arange(256).view({1, -1}));
  EXPECT_DOUBLE_EQ(all.density(), 1.0);
  EXPECT_TRUE(at::equal(core::layout_mask(all), core::layout_mask(core::dense_causal_layout(s))));
}

TEST(SparseLayout, AttendedPairsCountTheMask) {
  at::manual_seed(1);
  for (auto [sq, sk, bq] : {std::tuple<int64_t, int64_t, int64_t>{333, 333, 64}, {333, 333, 128}, {100, 517, 64}, {1, 200, 64}}) {
    const auto s = layout_shape(3, sq, sk, bq, 64);
    for (double density : {0.1, 0.5, 1.0}) {
      const auto L = test::random_layout(s, density, /*columns_per_head=*/12);
      L.validate();
      EXPECT_EQ(L.attended_pairs(), core::layout_mask(L).sum().item<int64_t>()) << sq << " " << sk << " " << bq << " " << density;
    }
  }
}

TEST(SparseLayout, ValidateNamesWhatIsWrong) {
  const auto s = layout_shape(1, 192, 192);  // rows see key blocks 0, 0..1, 0..2
  by_hand(s, {0, 1, 3, 6}, {0, 0, 1, 0, 1, 2}).validate();
  expect_error([&] { by_hand(s, {0, 1, 3}, {0, 0, 1}).validate(); }, "expected 4");
  expect_error([&] { by_hand(s, {0, 1, 3, 6}, {0, 0, 1, 0, 1, 7}).validate(); }, "outside [0, 3)");
  expect_error([&] { by_hand(s, {0, 1, 3, 6}, {0, 1, 0, 0, 2, 1}).validate(); }, "strictly ascend");
  expect_error([&] { by_hand(s, {0, 2, 3, 6}, {0, 1, 0, 0, 1, 2}).validate(); }, "non-causal");
  expect_error([&] { by_hand(s, {0, 2, 1, 3}, {0, 0, 1}).validate(); }, "decrease at row 1");
  expect_error([&] { by_hand(s, {0, 1, 3, 5}, {0, 0, 1, 0, 1, 2}).validate(); }, "end at 5");
  auto wrong_type = by_hand(s, {0, 1, 3, 6}, {0, 0, 1, 0, 1, 2});
  wrong_type.block_indices = wrong_type.block_indices.to(at::kLong);
  expect_error([&] { wrong_type.validate(); }, "int32");
  auto cols = by_hand(s, {0, 1, 2, 3}, {0, 1, 2});
  cols.column_offsets = at::tensor(std::vector<int32_t>{0, 0, 1, 2}, at::kInt);
  cols.columns = at::tensor(std::vector<int32_t>{3, 100}, at::kInt);
  cols.validate();
  cols.columns = at::tensor(std::vector<int32_t>{3, 130}, at::kInt);
  expect_error([&] { cols.validate(); }, "inside its listed key block 2");
  cols.columns = at::tensor(std::vector<int32_t>{150, 3}, at::kInt);
  expect_error([&] { cols.validate(); }, "lists column 150, after its last query");
  cols.column_offsets = at::Tensor();
  expect_error([&] { cols.validate(); }, "come together");
}

TEST(SparseLayout, KeyMajorTransposeListsTheRowsOfEachKeyBlock) {
  at::manual_seed(2);
  const auto s = layout_shape(4, 300, 300);  // 4 query heads over 2 key heads: rows of heads 0-1 go to key head 0
  const auto L = test::random_layout(s, 0.5);
  const auto km = core::key_major_layout(L, 2);
  const auto rows = test::lists(L.block_offsets, L.block_indices);
  Lists want(static_cast<size_t>(2 * s.k_blocks()));
  for (size_t r = 0; r < rows.size(); ++r)
    for (int32_t j : rows[r]) want[static_cast<size_t>(static_cast<int64_t>(r) / s.q_blocks() / 2 * s.k_blocks() + j)].push_back(static_cast<int32_t>(r));
  EXPECT_EQ(test::lists(km.offsets, km.rows), want);
  expect_error([&] { core::key_major_layout(L, 3); }, "key heads");
}
