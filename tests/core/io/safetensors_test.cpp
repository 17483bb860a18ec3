// safetensors: writer -> reader round trips for every dtype, the on-disk layout HF expects, and
// hand-crafted corrupt files, each rejected with a message naming the problem.
#include "test_dir.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/io/safetensors.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using jenga::core::Error;
using jenga::core::SafetensorsFile;
using jenga::core::save_safetensors;
using jenga::test::read_bytes;
using jenga::test::st_file;
using jenga::test::u64_le;
using jenga::test::write_bytes;

namespace {

class Safetensors : public jenga::test::TempDirTest {};

// Every supported dtype with values that exercise its range (sign, fractions, extremes).
std::map<std::string, at::Tensor> every_dtype() {
  at::manual_seed(0);
  std::map<std::string, at::Tensor> t;
  t["f64"] = at::randn({3, 5}, at::kDouble);
  t["f32"] = at::randn({4, 7}, at::kFloat);
  t["f16"] = at::randn({2, 3, 4}, at::kFloat).to(at::kHalf);
  t["bf16"] = at::randn({6, 5}, at::kFloat).to(at::kBFloat16);
  t["i64"] = at::randint(-(int64_t{1} << 40), int64_t{1} << 40, {9}, at::kLong);
  t["i32"] = at::randint(-100000, 100000, {3, 3}, at::kInt);
  t["i16"] = at::randint(-30000, 30000, {5}, at::kShort);
  t["i8"] = at::randint(-128, 128, {2, 2}, at::kChar);
  t["u8"] = at::randint(0, 256, {7}, at::kByte);
  t["bool"] = at::randint(0, 2, {3, 2}, at::kLong).to(at::kBool);
  t["scalar"] = at::scalar_tensor(3.5, at::kFloat);  // shape []
  t["empty"] = at::zeros({0, 4}, at::kFloat);        // zero bytes
  return t;
}

// Runs `f`, expects an Error whose message contains every fragment.
template <typename F>
void expect_error(F&& f, std::initializer_list<std::string> fragments) {
  try {
    f();
    ADD_FAILURE() << "expected jenga::core::Error";
  } catch (const Error& e) {
    const std::string m = e.what();
    for (const auto& frag : fragments) EXPECT_NE(m.find(frag), std::string::npos) << "message: " << m << "\nmissing: " << frag;
  }
}

}  // namespace

TEST_F(Safetensors, RoundTripEveryDtype) {
  const auto tensors = every_dtype();
  const auto file = path("all.safetensors");
  save_safetensors(file, tensors, {{"format", "pt"}, {"note", "round trip"}});

  const SafetensorsFile st(file);
  EXPECT_EQ(st.names().size(), tensors.size());
  EXPECT_EQ(st.metadata().at("format"), "pt");
  EXPECT_EQ(st.metadata().at("note"), "round trip");
  for (const auto& [name, t] : tensors) {
    ASSERT_TRUE(st.contains(name)) << name;
    EXPECT_EQ(st.info(name).dtype, t.scalar_type()) << name;
    EXPECT_EQ(st.info(name).shape, t.sizes().vec()) << name;
    const auto back = st.load(name, at::kCPU, t.scalar_type());
    EXPECT_EQ(back.scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(at::equal(back, t)) << name;
  }
}

TEST_F(Safetensors, ConvertsOnLoadAndNeverAliasesTheMapping) {
  const auto bf = at::randn({16, 8}).to(at::kBFloat16);
  const auto file = path("bf.safetensors");
  save_safetensors(file, {{"w", bf}});
  at::Tensor as_f32, same;
  {
    const SafetensorsFile st(file);
    as_f32 = st.load("w", at::kCPU, at::kFloat);
    same = st.load("w", at::kCPU, at::kBFloat16);
    // Writing to one loaded copy must not change the next load (no shared storage).
    same.fill_(0);
    EXPECT_TRUE(at::equal(st.load("w", at::kCPU, at::kBFloat16), bf));
  }
  // The file object (and its mapping) is gone; the loaded tensors still hold the values.
  EXPECT_EQ(as_f32.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(as_f32, bf.to(at::kFloat)));
  EXPECT_TRUE(as_f32.is_contiguous());
}

TEST_F(Safetensors, LayoutMatchesTheReferenceWriter) {
  const auto file = path("layout.safetensors");
  save_safetensors(file, {{"b", at::ones({3}, at::kHalf)}, {"a", at::ones({2, 2}, at::kFloat)}});
  const auto bytes = read_bytes(file);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  EXPECT_EQ(n % 8, 0u) << "header padded to a multiple of 8";
  const auto header = bytes.substr(8, n);
  EXPECT_EQ(header.front(), '{');
  const auto last = header.find_last_not_of(' ');
  EXPECT_EQ(header[last], '}') << "padding is spaces after the JSON";
  EXPECT_LT(n - 1 - last, 8u);
  const auto j = nlohmann::json::parse(header);
  // Names sorted, data contiguous from 0 in that order.
  EXPECT_EQ(j["a"]["dtype"], "F32");
  EXPECT_EQ(j["a"]["data_offsets"], nlohmann::json({0, 16}));
  EXPECT_EQ(j["b"]["dtype"], "F16");
  EXPECT_EQ(j["b"]["data_offsets"], nlohmann::json({16, 22}));
  EXPECT_FALSE(j.contains("__metadata__")) << "no metadata given, none written";
  EXPECT_EQ(bytes.size(), 8 + n + 22);
}

TEST_F(Safetensors, WriterRejectsWhatTheFormatCannotHold) {
  expect_error([&] { save_safetensors(path("c.safetensors"), {{"z", at::zeros({2}, at::kComplexFloat)}}); }, {"'z'", "cannot hold"});
  expect_error([&] { save_safetensors(path("m.safetensors"), {{"__metadata__", at::zeros({2})}}); }, {"reserved"});
  expect_error([&] { save_safetensors(path("nodir/x.safetensors"), {{"a", at::zeros({2})}}); }, {"nodir/x.safetensors", "cannot open"});
}

TEST_F(Safetensors, WriterTakesNonContiguousTensors) {
  const auto t = at::arange(12, at::kFloat).reshape({3, 4}).t();  // a transposed view
  save_safetensors(path("t.safetensors"), {{"t", t}});
  EXPECT_TRUE(at::equal(SafetensorsFile(path("t.safetensors")).load("t", at::kCPU, at::kFloat), t));
}

TEST_F(Safetensors, UnalignedOffsetsStillLoad) {
  // A writer may place an F32 tensor at an odd offset; the reader must not misread it.
  const float v[2] = {1.5f, -2.25f};
  std::string data(1, '\x7f');  // a one-byte U8 tensor first
  data.append(reinterpret_cast<const char*>(v), sizeof v);
  const std::string header = R"({"u":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"f":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}})";
  write_bytes(path("odd.safetensors"), u64_le(header.size()) + header + data);
  const SafetensorsFile st(path("odd.safetensors"));
  const auto f = st.load("f", at::kCPU, at::kFloat);
  EXPECT_FLOAT_EQ(f[0].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ(f[1].item<float>(), -2.25f);
  EXPECT_EQ(st.load("u", at::kCPU, at::kByte)[0].item<uint8_t>(), 0x7f);
}

TEST_F(Safetensors, MissingTensorNamesFileAndTensor) {
  save_safetensors(path("one.safetensors"), {{"a", at::zeros({2})}});
  const SafetensorsFile st(path("one.safetensors"));
  expect_error([&] { st.info("nope"); }, {"one.safetensors", "'nope'"});
  expect_error([&] { st.load("nope", at::kCPU, at::kFloat); }, {"'nope'"});
}

// ---- corrupt files: each names the file and the problem --------------------------------------

TEST_F(Safetensors, RejectsMissingAndEmptyAndTinyFiles) {
  expect_error([&] { SafetensorsFile(path("absent.safetensors")); }, {"absent.safetensors", "cannot open"});
  write_bytes(path("empty.safetensors"), "");
  expect_error([&] { SafetensorsFile(path("empty.safetensors")); }, {"empty.safetensors", "empty file"});
  write_bytes(path("tiny.safetensors"), "abcde");
  expect_error([&] { SafetensorsFile(path("tiny.safetensors")); }, {"tiny.safetensors", "5 bytes", "shorter than the 8-byte"});
}

TEST_F(Safetensors, RejectsHeaderLengthBeyondFile) {
  write_bytes(path("h.safetensors"), u64_le(1000) + "{}");
  expect_error([&] { SafetensorsFile(path("h.safetensors")); }, {"h.safetensors", "header length 1000", "truncated"});
  write_bytes(path("huge.safetensors"), u64_le(uint64_t{1} << 62) + "{}");
  expect_error([&] { SafetensorsFile(path("huge.safetensors")); }, {"100 MiB"});
}

TEST_F(Safetensors, RejectsTruncatedFiles) {
  save_safetensors(path("full.safetensors"), {{"a", at::randn({64})}, {"b", at::randn({32})}});
  const auto bytes = read_bytes(path("full.safetensors"));
  // Cut inside the data: the last tensor's end lies beyond the data section.
  write_bytes(path("cut_data.safetensors"), bytes.substr(0, bytes.size() - 10));
  expect_error([&] { SafetensorsFile(path("cut_data.safetensors")); }, {"cut_data.safetensors", "'b'", "beyond", "truncated"});
  // Cut inside the header.
  write_bytes(path("cut_header.safetensors"), bytes.substr(0, 20));
  expect_error([&] { SafetensorsFile(path("cut_header.safetensors")); }, {"cut_header.safetensors", "header length", "truncated"});
}

TEST_F(Safetensors, RejectsHeaderThatIsNotAJsonObject) {
  write_bytes(path("nj.safetensors"), st_file("{\"a\": {\"dtype\": ", 0));
  expect_error([&] { SafetensorsFile(path("nj.safetensors")); }, {"nj.safetensors", "not valid JSON"});
  write_bytes(path("arr.safetensors"), st_file("[1, 2, 3]", 0));
  expect_error([&] { SafetensorsFile(path("arr.safetensors")); }, {"arr.safetensors", "not an object (found array)"});
  write_bytes(path("deep.safetensors"), st_file(std::string(100000, '['), 0));
  expect_error([&] { SafetensorsFile(path("deep.safetensors")); }, {"nests deeper"});
}

TEST_F(Safetensors, RejectsBadEntries) {
  struct Case {
    const char* label;
    std::string header;
    size_t data;
    std::vector<std::string> fragments;
  };
  const std::vector<Case> cases = {
      {"unknown dtype", R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,2]}})", 2, {"'w'", "unknown dtype 'Q4'"}},
      {"negative dim", R"({"w":{"dtype":"F32","shape":[2,-3],"data_offsets":[0,24]}})", 24, {"'w'", "shape dimension -3 is negative"}},
      {"fractional dim", R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8, {"'w'", "2.5 is not a non-negative integer"}},
      {"begin > end", R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", 8, {"'w'", "begin 8 > end 4"}},
      {"end beyond data", R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 12, {"'w'", "end 16 is beyond the 12-byte data section"}},
      {"byte length", R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", 16, {"'w'", "byte length 12 != numel", "needs 16"}},
      {"bf16 byte length", R"({"w":{"dtype":"BF16","shape":[3],"data_offsets":[0,12]}})", 16, {"'w'", "byte length 12", "needs 6"}},
      {"numel overflow", R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}})", 16, {"'w'", "overflows"}},
      {"overlap", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 16,
       {"'a'", "'b'", "overlap"}},
      {"missing dtype", R"({"w":{"shape":[1],"data_offsets":[0,4]}})", 4, {"'w'", "'dtype'"}},
      {"missing offsets", R"({"w":{"dtype":"F32","shape":[1]}})", 4, {"'w'", "data_offsets"}},
      {"three offsets", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", 8, {"'w'", "data_offsets"}},
      {"shape not array", R"({"w":{"dtype":"F32","shape":4,"data_offsets":[0,16]}})", 16, {"'w'", "'shape'"}},
      {"entry not object", R"({"w":[1,2]})", 0, {"'w'", "not an object"}},
      {"negative offset", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 4, {"'w'", "begin -4 is negative"}},
      {"metadata not strings", R"({"__metadata__":{"format":1}})", 0, {"__metadata__", "'format'", "not a string"}},
      {"metadata not object", R"({"__metadata__":"pt"})", 0, {"__metadata__", "not an object"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    const auto file = path("bad.safetensors");
    write_bytes(file, st_file(c.header, c.data));
    try {
      SafetensorsFile st(file);
      ADD_FAILURE() << "accepted: " << c.header;
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("bad.safetensors"), std::string::npos) << m;
      for (const auto& f : c.fragments) EXPECT_NE(m.find(f), std::string::npos) << "message: " << m << "\nmissing: " << f;
    }
  }
}

TEST_F(Safetensors, AcceptsHandWrittenValidFiles) {
  // Empty tensors may sit anywhere (they own no bytes); trailing spaces in the header are fine.
  const std::string header = R"({"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}   )";
  write_bytes(path("ok.safetensors"), st_file(header, 8));
  const SafetensorsFile st(path("ok.safetensors"));
  EXPECT_EQ(st.names(), (std::vector<std::string>{"a", "e"}));
  EXPECT_EQ(st.load("e", at::kCPU, at::kFloat).numel(), 0);
  EXPECT_TRUE(st.metadata().empty());
}
