// Parallel context encoding (mask, layout, positions, piece selection), Quest (bounds, page
// choice, layouts), Spotlight (codes, selection, training beats random hashing) and the shared
// helpers (decode layouts, head joins, IoU).
#include "jenga/core/attention/block_sparse_attention.hpp"
#include "jenga/core/attention/parallel_context.hpp"
#include "jenga/core/attention/quest.hpp"
#include "jenga/core/attention/selection.hpp"
#include "jenga/core/attention/spotlight.hpp"
#include "jenga/core/error.hpp"

#include "../attention/layouts.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <vector>

using namespace jenga;
using Lists = std::vector<std::vector<int32_t>>;

namespace {

using test::expect_error;

// Rows of '0'/'1' -> bool [1, n, n] (missing trailing entries are 0).
at::Tensor mask_of(const std::vector<std::string>& rows) {
  const int64_t n = static_cast<int64_t>(rows.size());
  auto m = at::zeros({1, n, n}, at::kBool);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < static_cast<int64_t>(rows[i].size()); ++j) m[0][i][j] = rows[i][j] == '1';
  return m;
}

std::vector<int64_t> vec(const at::Tensor& t) {
  const auto c = t.to(at::kLong).contiguous().cpu();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

}  // namespace

// ---- Parallel context encoding.

TEST(ParallelContext, MaskAndLayoutMatchTheHandBuiltMask) {
  core::pce::Spec s;  // [P P][A A][B B][C C][S S S] with 2-token blocks
  s.n_sink = 2;
  s.context = 6;
  s.pieces = 3;
  s.suffix = 3;
  s.block = 2;
  const auto all = mask_of({"1", "11", "111", "1111", "11001", "110011", "1100001", "11000011", "111111111", "1111111111",
                            "11111111111"});
  EXPECT_TRUE(at::equal(core::pce::attention_mask(s, 1), all));
  const auto L = core::pce::layout(s, 1);
  L.validate();
  EXPECT_TRUE(at::equal(core::layout_mask(L), all));
  // Selective attention: the suffix reads pieces A and C only.
  const auto sel = at::tensor({0, 2}, at::kLong).view({1, 2});
  const auto picked = mask_of({"1", "11", "111", "1111", "11001", "110011", "1100001", "11000011", "111100111", "1111001111",
                               "11110011111"});
  EXPECT_TRUE(at::equal(core::pce::attention_mask(s, 1, sel), picked));
  EXPECT_TRUE(at::equal(core::layout_mask(core::pce::layout(s, 1, sel)), picked));
  // Positions: prefix 0, 1; every piece restarts at n_sink; the suffix follows the longest piece.
  EXPECT_EQ(vec(core::pce::position_ids(s)), (std::vector<int64_t>{0, 1, 2, 3, 2, 3, 2, 3, 4, 5, 6}));
  s.context = 8;  // 4 blocks into 3 pieces: 4, 2, 2 tokens
  EXPECT_EQ(s.piece_lengths(), (std::vector<int64_t>{4, 2, 2}));
  EXPECT_EQ(vec(core::pce::position_ids(s)), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 2, 3, 2, 3, 6, 7, 8}));
}

TEST(ParallelContext, KernelBlocksAndErrors) {
  core::pce::Spec s;
  s.n_sink = 64;
  s.context = 8 * 64;
  s.pieces = 4;
  s.suffix = 100;  // ragged last block
  const auto L = core::pce::layout(s, 2);
  L.validate();
  EXPECT_EQ(L.seq_q, 64 + 512 + 100);
  EXPECT_TRUE(at::equal(core::layout_mask(L), core::pce::attention_mask(s, 2)));
  const auto rows = test::lists(L.block_offsets, L.block_indices);
  EXPECT_EQ(rows[4], (std::vector<int32_t>{0, 3, 4}));  // piece 1 (blocks 3, 4): prefix + itself
  EXPECT_EQ(rows[10], (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  s.n_sink = 10;
  expect_error([&] { core::pce::layout(s, 1); }, "multiples of block");
  s.n_sink = 64;
  s.pieces = 9;
  expect_error([&] { core::pce::position_ids(s); }, "cannot make 9 pieces");
  s.pieces = 4;
  expect_error([&] { core::pce::layout(s, 1, at::tensor({4}, at::kLong).view({1, 1})); }, "selected pieces must be in [0, 4)");
}

TEST(ParallelContext, SelectionFindsThePlantedPiece) {
  at::manual_seed(5);
  core::pce::Spec s;
  s.n_sink = 64;
  s.context = 4 * 64;
  s.pieces = 4;
  s.suffix = 64;
  const int64_t S = s.total(), D = 32;
  auto q = 0.1 * at::randn({S, 4, D}), k = 0.1 * at::randn({S, 2, D});
  auto u = at::randn({D});
  u /= u.norm();
  q.narrow(0, s.suffix_begin(), s.suffix).add_(3 * u);  // every suffix query, every head
  k.narrow(0, s.piece_begins()[2], 64).add_(3 * u);  // piece 2's keys, both key heads
  const auto scores = core::pce::piece_scores(q, k, s, 1.0 / std::sqrt(32.0));
  ASSERT_EQ(scores.sizes(), (at::IntArrayRef{4, 4}));
  EXPECT_TRUE(at::allclose(scores.sum(-1), at::ones({4}), 1e-4, 1e-4));
  const auto top1 = core::pce::select_pieces(q, k, s, 1, 1.0 / std::sqrt(32.0));
  EXPECT_TRUE(at::equal(top1, at::full({4, 1}, 2, at::kLong))) << top1;
  const auto top2 = core::pce::select_pieces(q, k, s, 2, 1.0 / std::sqrt(32.0));
  for (int64_t h = 0; h < 4; ++h) EXPECT_TRUE((top2[h] == 2).any().item<bool>());
  const auto L = core::pce::layout(s, 4, top1);
  L.validate();
  EXPECT_EQ(test::lists(L.block_offsets, L.block_indices)[5], (std::vector<int32_t>{0, 3, 5}));  // suffix: prefix, piece 2, itself
  expect_error([&] { core::pce::select_pieces(q, k, s, 5, 1.0); }, "top_k must be in [1, 4]");
}

// ---- Quest.

TEST(Quest, BoundCoversEveryKeyOfItsPage) {
  at::manual_seed(6);
  const auto q = at::randn({4, 16}), k = at::randn({100, 2, 16});  // 7 pages of 16, the last ragged
  const auto b = core::quest::page_bounds(k, 16);
  EXPECT_EQ(b.pages(), 7);
  const auto ub = core::quest::upper_bounds(q, b);
  ASSERT_EQ(ub.sizes(), (at::IntArrayRef{4, 7}));
  for (int64_t h = 0; h < 4; ++h)
    for (int64_t p = 0; p < 7; ++p) {
      const auto keys = k.narrow(0, p * 16, std::min<int64_t>(16, 100 - p * 16)).select(1, h / 2);  // GQA
      const double best = keys.matmul(q[h]).max().item<double>();
      EXPECT_GE(ub[h][p].item<double>(), best - 1e-4) << "head " << h << " page " << p;
    }
}

TEST(Quest, BoundIsTheElementwiseDefinition) {
  at::manual_seed(21);
  const auto q = at::randn({8, 16}), k = at::randn({90, 2, 16});
  const auto b = core::quest::page_bounds(k, 16);
  const auto lo = b.min.repeat_interleave(4, 0), hi = b.max.repeat_interleave(4, 0);  // [Hq, pages, D]
  const auto want = at::maximum(q.unsqueeze(1) * lo, q.unsqueeze(1) * hi).sum(-1);
  EXPECT_LT((core::quest::upper_bounds(q, b) - want).abs().max().item<double>(), 1e-5);
}

TEST(Quest, KeysOfTheSelectedPages) {
  at::manual_seed(24);
  const auto q = at::randn({4, 8}), k = at::randn({100, 2, 8});  // 7 pages, the last of 4 keys
  const auto b = core::quest::page_bounds(k, 16);
  const auto pages = core::quest::select_pages(q, b, 3);
  const auto keys = core::quest::select_keys(q, b, 3);
  ASSERT_EQ(keys.sizes(), (at::IntArrayRef{4, 2 * 16 + 4}));
  for (int64_t h = 0; h < 4; ++h) {
    std::vector<int64_t> want;
    for (int64_t p : vec(pages[h]))
      for (int64_t j = 0; j < 16 && p * 16 + j < 100; ++j) want.push_back(p * 16 + j);
    EXPECT_EQ(vec(keys[h]), want) << "head " << h;
  }
}

TEST(Quest, KeySelectionOnTheGpuEqualsTheReference) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(25);
  // Few pages to many (one thread's run of several pages), every budget from the newest page alone
  // to all of them, ragged and whole last pages, GQA 32 / 8.
  for (const int64_t S : {5, 16, 1000, 131072 + 7}) {
    const auto k = at::randn({S, 8, 64}), q = at::randn({32, 64});
    const auto b = core::quest::page_bounds(k, 16);
    const auto bc = core::quest::page_bounds(k.cuda(), 16);
    for (const int64_t top : std::vector<int64_t>{1, 2, std::max<int64_t>(1, b.pages() / 10), b.pages()}) {
      // The reference selects on the scores the kernel sees (the GPU's products): only the
      // selection is compared. Random scores have no exact ties.
      auto ub = core::quest::upper_bounds(q.cuda(), bc).cpu();
      const int64_t P = b.pages();
      ub.select(1, P - 1).fill_(std::numeric_limits<float>::infinity());
      const auto pages = std::get<0>(std::get<1>(ub.topk(std::min(top, P), 1)).sort(1));  // select_keys keeps at most P
      const auto all = (pages.unsqueeze(2) * 16 + at::arange(16).view({1, 1, -1})).flatten(1);
      const auto want = all.narrow(1, 0, all.size(1) - (P * 16 - S));
      EXPECT_TRUE(at::equal(core::quest::select_keys(q.cuda(), bc, top).cpu(), want)) << "S " << S << ", top " << top;
    }
  }
}

TEST(Quest, AppendingKeysEqualsRecomputing) {
  at::manual_seed(13);
  const auto k = at::randn({77, 2, 8});
  auto b = core::quest::page_bounds(k.narrow(0, 0, 5), 16);
  for (const int64_t n : {1, 10, 1, 30, 14, 16}) {  // fills, crosses and ends on page boundaries
    core::quest::append_keys(b, k.narrow(0, b.seq_k, n));
    const auto full = core::quest::page_bounds(k.narrow(0, 0, b.seq_k), 16);
    ASSERT_EQ(b.pages(), full.pages()) << "after " << b.seq_k << " keys";
    EXPECT_TRUE(at::equal(b.min, full.min)) << "after " << b.seq_k << " keys";
    EXPECT_TRUE(at::equal(b.max, full.max)) << "after " << b.seq_k << " keys";
  }
  EXPECT_EQ(b.seq_k, 77);
}

TEST(Quest, SelectsTheTruePageAndLaysItOut) {
  at::manual_seed(7);
  auto q = at::randn({2, 16}), k = 0.1 * at::randn({200, 1, 16});
  k[70][0] = 4 * q[0];  // page 4 holds the best key of head 0
  k[133][0] = 4 * q[1];  // page 8 of head 1
  const auto b = core::quest::page_bounds(k, 16);
  const auto pages = core::quest::select_pages(q, b, 2);
  EXPECT_EQ(vec(pages[0]), (std::vector<int64_t>{4, 12}));  // + the last page, always
  EXPECT_EQ(vec(pages[1]), (std::vector<int64_t>{8, 12}));
  core::quest::Options o;
  o.page_size = 16;
  o.token_budget = 32;
  const auto L = core::quest::layout(q.unsqueeze(0), k, o);
  L.validate();
  EXPECT_EQ(L.seq_q, 1);
  EXPECT_EQ(L.attended_pairs(), 16 + 8 + 16 + 8);  // a 16-key page and the 8-key last page per head
  const auto m = core::layout_mask(L);
  EXPECT_TRUE(m[0][0].narrow(0, 64, 16).all().item<bool>());
  EXPECT_TRUE(m[1][0].narrow(0, 128, 16).all().item<bool>());
  EXPECT_TRUE(m[1][0].narrow(0, 192, 8).all().item<bool>());
  // Block-sized pages are whole key blocks.
  o.page_size = 64;
  o.token_budget = 128;
  const auto B = core::quest::layout(q, k, o);
  B.validate();
  EXPECT_EQ(test::lists(B.block_offsets, B.block_indices), (Lists{{1, 3}, {2, 3}}));
  EXPECT_FALSE(B.has_columns());
}

TEST(Selection, ColumnsLayoutEqualsDecodeLayoutOnCleanRows) {
  // What the per-step selectors return: n distinct ascending keys per head.
  const auto sel = at::tensor({0, 3, 70, 149, 1, 2, 64, 120}, at::kLong).view({2, 4});
  const auto C = core::columns_layout(sel, 150);
  C.validate();
  EXPECT_EQ(test::lists(C.column_offsets, C.columns), (Lists{{0, 3, 70, 149}, {1, 2, 64, 120}}));
  EXPECT_EQ(C.nnz_blocks(), 0);
  EXPECT_TRUE(core::layout_mask(C).equal(core::layout_mask(core::decode_layout(sel, 150, 0))));
  expect_error([&] { core::columns_layout(sel.view({8}), 150); }, "expected integer columns");
  expect_error([&] { core::columns_layout(sel, 3); }, "n <= seq_k");
  // The promise is checked where layouts are checked (on the host: always).
  expect_error([&] { core::columns_layout(at::tensor({5, 4}, at::kLong).view({1, 2}), 150); }, "strictly ascend");
}

// ---- Spotlight and the shared helpers.

TEST(Selection, IouOnHandCases) {
  EXPECT_DOUBLE_EQ(core::selection_iou(at::tensor({1, 2, 3}, at::kLong), at::tensor({2, 3, 4}, at::kLong)), 0.5);
  EXPECT_DOUBLE_EQ(core::selection_iou(at::tensor({1, 2, 3}, at::kLong), at::tensor({3, 2, 1}, at::kLong)), 1.0);
  EXPECT_DOUBLE_EQ(core::selection_iou(at::tensor({1, 2}, at::kLong), at::tensor({5, 6}, at::kLong)), 0.0);
  // Two rows averaged; -1 pads.
  const auto a = at::tensor({1, 2, -1, 7, 8, 9}, at::kLong).view({2, 3});
  const auto b = at::tensor({1, 2, 7, 8}, at::kLong).view({2, 2});
  EXPECT_DOUBLE_EQ(core::selection_iou(a, b), (1.0 + 2.0 / 3.0) / 2);
  expect_error([&] { core::selection_iou(a, b.view({1, 4})); }, "same H");
}

TEST(Selection, DecodeLayoutAndConcat) {
  const auto sel = at::tensor({3, 70, 150, -1, 5, 5}, at::kLong).view({2, 3});
  const auto L = core::decode_layout(sel, 150, 1);  // the query at key 149, in block 2
  L.validate();
  EXPECT_EQ(test::lists(L.block_offsets, L.block_indices), (Lists{{2}, {2}}));
  EXPECT_EQ(test::lists(L.column_offsets, L.columns), (Lists{{3, 70}, {5}}));
  const auto both = core::concat_heads({L, core::dense_causal_layout(L)});
  EXPECT_EQ(both.heads, 4);
  EXPECT_EQ(test::lists(both.column_offsets, both.columns), (Lists{{3, 70}, {5}, {}, {}}));
  EXPECT_EQ(test::lists(both.block_offsets, both.block_indices), (Lists{{2}, {2}, {0, 1, 2}, {0, 1, 2}}));
}

TEST(Spotlight, CodesSelectionAndLayout) {
  at::manual_seed(8);
  const auto h = core::spotlight::random_hash(4, 2, 16, 32, 11);
  const auto again = core::spotlight::random_hash(4, 2, 16, 32, 11);
  EXPECT_TRUE(at::equal(h.k_proj, again.k_proj));
  auto k = at::randn({300, 2, 16});
  const auto q = at::randn({4, 16});
  k[123][1] = 2 * q[3];  // same direction as query head 3 (key head 1): every bit agrees
  const auto sim = core::spotlight::hamming_similarity(h, q, k);
  ASSERT_EQ(sim.sizes(), (at::IntArrayRef{4, 300}));
  EXPECT_EQ(sim[3][123].item<double>(), 32.0);
  EXPECT_EQ(core::spotlight::kept_keys(1000, 0.9), 100);
  EXPECT_EQ(core::spotlight::kept_keys(1000, 0.98), 20);
  EXPECT_EQ(core::spotlight::kept_keys(10, 0.98), 1);
  const auto s = core::spotlight::select(h, q, k, 15);
  EXPECT_TRUE((s[3] == 123).any().item<bool>());
  const auto L = core::spotlight::layout(h, q.unsqueeze(0), k, 0.95);
  L.validate();
  EXPECT_EQ(test::lists(L.block_offsets, L.block_indices)[0], (std::vector<int32_t>{4}));  // the local block (keys 256..299)
  EXPECT_LE(L.attended_pairs(), 4 * (15 + 44));
}

TEST(Spotlight, TiesGoToRecentKeys) {
  // Row 0: three keys tie at the top; row 1: every key ties.
  const auto sim = at::tensor({5.0, 9.0, 9.0, 1.0, 9.0, 0.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0}).view({2, 6});
  const auto top = core::spotlight::top_keys(sim, 2);
  EXPECT_EQ(vec(top[0]), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(vec(top[1]), (std::vector<int64_t>{4, 5}));
  expect_error([&] { core::spotlight::top_keys(sim, 7); }, "keep in [1, S]");
}

TEST(Spotlight, PackedCodesSelectWhatSelectDoes) {
  at::manual_seed(22);
  // 33 bits: word 0 holds bits 0..31, word 1 bit 32; -1 codes are 0 bits.
  auto c = at::ones({33});
  c[1] = -1;
  const auto w = core::spotlight::pack_codes(c.view({1, 33}));
  EXPECT_EQ(w[0][0].item<int32_t>(), static_cast<int32_t>(0xfffffffdu));
  EXPECT_EQ(w[0][1].item<int32_t>(), 1);
  for (const int64_t bits : {32, 48}) {
    const auto h = core::spotlight::random_hash(8, 2, 16, bits, 5);
    const auto k = at::randn({300, 2, 16}), q = at::randn({8, 16});
    const auto qw = core::spotlight::pack_codes(core::spotlight::query_codes(h, q.unsqueeze(0)))[0];
    const auto kw = core::spotlight::pack_codes(core::spotlight::key_codes(h, k)).transpose(0, 1);  // [Hkv, S, W], strided
    EXPECT_TRUE(at::equal(core::spotlight::packed_query_codes(h, q.unsqueeze(0))[0], qw));
    EXPECT_TRUE(at::equal(core::spotlight::packed_key_codes(h, k).transpose(0, 1), kw));
    for (const int64_t keep : {1, 15, 137, 300})
      EXPECT_TRUE(at::equal(core::spotlight::select_packed(qw, kw, bits, keep), core::spotlight::select(h, q, k, keep)))
          << bits << " bits, keep " << keep;
  }
  expect_error([&] { core::spotlight::select_packed(at::zeros({8, 1}, at::kInt), at::zeros({2, 5, 1}, at::kInt), 32, 6); },
               "keep must be in [1, 5]");
}

TEST(Spotlight, PackedSelectionOnTheGpuEqualsTheReference) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(23);
  // Long caches (many keys per thread), every keep from one key to all, 1 and 2 words, GQA 32 / 8.
  for (const int64_t bits : {32, 64})
    for (const int64_t S : {1, 700, 130001}) {
      const int64_t W = bits / 32;
      const auto kw = at::randint(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), {8, S, W}, at::kInt);
      // Queries near some keys' codes so the top is not all ties.
      const auto qw = at::randint(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), {32, W}, at::kInt);
      for (const int64_t keep : std::vector<int64_t>{1, std::max<int64_t>(1, S / 10), S}) {
        const auto want = core::spotlight::select_packed(qw, kw, bits, keep);
        const auto got = core::spotlight::select_packed(qw.cuda(), kw.cuda(), bits, keep);
        EXPECT_TRUE(at::equal(got.cpu(), want)) << bits << " bits, S " << S << ", keep " << keep;
      }
    }
  // Packing on the GPU: pack_codes of the signs of the same projections (computed on the GPU too,
  // so rounding cannot flip a sign), the sign of 0 included.
  const auto h = core::spotlight::random_hash(8, 2, 16, 48, 6);
  auto k = at::randn({500, 2, 16}, at::kCUDA);
  k[7].zero_();
  const auto x = at::einsum("nhd,hdb->nhb", {k, h.k_proj.cuda()}) + h.k_bias.cuda().unsqueeze(0);
  const auto want = core::spotlight::pack_codes(at::where(x.ge(0), 1.0, -1.0).cpu());
  EXPECT_TRUE(at::equal(core::spotlight::packed_key_codes(h, k).cpu(), want));
}

TEST(Spotlight, TrainedHashBeatsRandomHashing) {
  // Keys: 4 signal dimensions the queries use plus 28 loud dimensions they ignore (massive
  // activations): q·k ranks by the signal, while random projections mostly see the noise.
  at::manual_seed(9);
  const int64_t S = 512, D = 32, N = 64, bits = 32;
  const auto make_q = [&](int64_t n) {
    auto q = at::zeros({n, 1, D});
    q.narrow(2, 0, 4).copy_(3 * at::randn({n, 1, 4}));
    return q;
  };
  auto k = 3 * at::randn({S, 1, D});
  k.narrow(2, 0, 4).copy_(at::randn({S, 1, 4}));
  const auto q_train = make_q(N), q_test = make_q(32);
  core::spotlight::TrainOptions o;
  o.top_k = 26;
  o.seed = 3;
  std::vector<double> losses;
  const auto trained = core::spotlight::train_hash(q_train, k, bits, o, &losses);
  ASSERT_EQ(static_cast<int64_t>(losses.size()), o.steps);
  EXPECT_LT(losses.back(), losses.front());
  const auto again = core::spotlight::train_hash(q_train, k, bits, o);
  EXPECT_TRUE(at::equal(trained.k_proj, again.k_proj));  // deterministic
  const auto random = core::spotlight::random_hash(1, 1, D, bits, 3);
  const int64_t keep = core::spotlight::kept_keys(S, 0.95);
  double iou_trained = 0, iou_random = 0;
  for (int64_t i = 0; i < q_test.size(0); ++i) {
    const auto qi = q_test[i];
    const auto truth = core::true_topk_keys(qi, k, keep);
    iou_trained += core::selection_iou(core::spotlight::select(trained, qi, k, keep), truth);
    iou_random += core::selection_iou(core::spotlight::select(random, qi, k, keep), truth);
  }
  iou_trained /= q_test.size(0);
  iou_random /= q_test.size(0);
  std::printf("IoU at 95%% pruning: trained %.3f, random %.3f (loss %.4f -> %.4f)\n", iou_trained, iou_random, losses.front(),
              losses.back());
  EXPECT_GT(iou_trained, iou_random + 0.1);
}

TEST(Spotlight, HashesRoundTripThroughAFile) {
  const std::string path = std::string(JENGA_BINARY_DIR) + "/attention_methods_hashes.safetensors";
  std::map<int64_t, core::spotlight::Hash> layers{{0, core::spotlight::random_hash(4, 2, 16, 8, 1)},
                                                  {3, core::spotlight::random_hash(4, 2, 16, 8, 2)}};
  core::spotlight::save_hashes(path, layers);
  const auto back = core::spotlight::load_hashes(path);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_TRUE(at::equal(back.at(3).k_proj, layers.at(3).k_proj));
  EXPECT_TRUE(at::equal(back.at(0).q_proj, layers.at(0).q_proj));
  EXPECT_EQ(back.at(3).bits(), 8);
  std::remove(path.c_str());
}

// The layouts run through the attention they are built for.
TEST(MethodsExecute, ParallelContextAndQuestLayoutsThroughBlockSparseAttention) {
  at::manual_seed(12);
  core::pce::Spec s;
  s.n_sink = 4;
  s.context = 12;
  s.pieces = 3;
  s.suffix = 5;
  s.block = 4;
  const int64_t S = s.total();
  const auto q = at::randn({S, 2, 8}, at::kDouble), k = at::randn({S, 1, 8}, at::kDouble), v = at::randn({S, 1, 8}, at::kDouble);
  const auto sel = at::tensor({1, 0, 2, 1}, at::kLong).view({2, 2});
  const auto out = core::block_sparse_attention_reference(q, k, v, core::pce::layout(s, 2, sel), 0.3);
  // Dense attention under the token mask, by hand.
  const auto mask = core::pce::attention_mask(s, 2, sel);
  auto logits = at::einsum("ihd,jhd->hij", {q, k.expand({S, 2, 8})}) * 0.3;
  logits = logits.masked_fill(mask.logical_not(), -std::numeric_limits<double>::infinity());
  const auto want = at::einsum("hij,jhd->ihd", {at::softmax(logits, -1), v.expand({S, 2, 8})});
  EXPECT_TRUE(at::allclose(out, want, 1e-9, 1e-9));

  // Quest decode: attention over exactly the keys of the chosen pages.
  const auto kc = at::randn({90, 1, 8}, at::kDouble), vc = at::randn({90, 1, 8}, at::kDouble);
  const auto qd = at::randn({1, 2, 8}, at::kDouble);
  core::quest::Options o;
  o.page_size = 16;
  o.token_budget = 32;
  const auto L = core::quest::layout(qd, kc, o);
  const auto got = core::block_sparse_attention_reference(qd, kc, vc, L, 0.3);
  const auto pages = core::quest::select_pages(qd, core::quest::page_bounds(kc, 16), 2);
  for (int64_t h = 0; h < 2; ++h) {
    std::vector<int64_t> keys;
    for (const int64_t p : vec(pages[h]))
      for (int64_t c = p * 16; c < std::min<int64_t>(90, p * 16 + 16); ++c) keys.push_back(c);
    const auto idx = at::tensor(keys, at::kLong);
    const auto ks = kc.select(1, 0).index_select(0, idx), vs = vc.select(1, 0).index_select(0, idx);
    const auto w = at::softmax(ks.matmul(qd[0][h]) * 0.3, 0);
    EXPECT_TRUE(at::allclose(got[0][h], w.matmul(vs), 1e-9, 1e-9)) << "head " << h;
  }
}
