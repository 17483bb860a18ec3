// safetensors reader (mmap + full header validation), sharded checkpoints, and the writer.
// Everything in a file is untrusted until checked: a corrupt or hostile header must end in an
// Error, never in an out-of-bounds read, an overflow or a stack blown by deep JSON nesting.
#include "jenga/core/io/safetensors.hpp"

#include "io/dtype_names.hpp"
#include "io/posix_files.hpp"
#include "jenga/core/error.hpp"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>

namespace jenga::core {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // the limit the reference implementation uses
constexpr int kMaxJsonDepth = 16;                   // a valid header nests 3 deep

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian; so must the host be");

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// nlohmann's parser recurses once per nesting level; 100 MiB of '[' would overflow the stack.
// A valid header is shallow, so reject deep nesting before parsing.
bool nesting_too_deep(const char* p, size_t n) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < n; ++i) {
    const char c = p[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

// A non-negative JSON integer that fits int64 (shape dims) / uint64 (offsets).
std::optional<uint64_t> non_negative_integer(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  return std::nullopt;  // negative, fractional, or not a number
}

// "-3 is negative" / "2.5 is not a non-negative integer", for messages.
std::string describe_bad_integer(const json& v) {
  if (v.is_number_integer() && v.get<int64_t>() < 0) return msg(v.dump(), " is negative");
  return msg(v.dump(), " is not a non-negative integer");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SafetensorsFile

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw Error(msg(path, ": cannot open: ", std::strerror(errno)));
  try {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) throw Error(msg(path, ": cannot stat: ", std::strerror(errno)));
    if (!S_ISREG(st.st_mode)) throw Error(msg(path, ": not a regular file"));
    size_ = static_cast<size_t>(st.st_size);
    if (size_ == 0) throw Error(msg(path, ": empty file (0 bytes), not a safetensors file"));
    if (size_ < 8)
      throw Error(msg(path, ": file is ", size_, " bytes, shorter than the 8-byte header length prefix"));

    map_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (map_ == MAP_FAILED) {
      map_ = nullptr;
      throw Error(msg(path, ": mmap failed: ", std::strerror(errno)));
    }
    // The mapping keeps the file alive; the descriptor is no longer needed.
    ::close(fd_);
    fd_ = -1;

    const auto* bytes = static_cast<const uint8_t*>(map_);
    const uint64_t header_len = read_u64_le(bytes);
    if (header_len > kMaxHeaderBytes)
      throw Error(msg(path, ": header length ", header_len, " bytes exceeds the 100 MiB limit (corrupt or not a safetensors file)"));
    if (header_len > size_ - 8)
      throw Error(msg(path, ": header length ", header_len, " bytes exceeds the ", size_ - 8,
                      " bytes after the length prefix (truncated file?)"));
    const char* header = reinterpret_cast<const char*>(bytes + 8);
    if (nesting_too_deep(header, header_len))
      throw Error(msg(path, ": header JSON nests deeper than ", kMaxJsonDepth, " levels"));

    json j;
    try {
      j = json::parse(header, header + header_len);
    } catch (const json::exception& e) {
      throw Error(msg(path, ": header is not valid JSON (", e.what(), ")"));
    }
    if (!j.is_object()) throw Error(msg(path, ": header JSON is not an object (found ", j.type_name(), ")"));

    data_ = bytes + 8 + header_len;
    const uint64_t data_size = size_ - 8 - header_len;

    for (const auto& [name, entry] : j.items()) {
      if (name == "__metadata__") {
        if (!entry.is_object()) throw Error(msg(path, ": __metadata__ is not an object of strings (found ", entry.type_name(), ")"));
        for (const auto& [k, v] : entry.items()) {
          if (!v.is_string()) throw Error(msg(path, ": __metadata__ value for '", k, "' is not a string (found ", v.type_name(), ")"));
          metadata_[k] = v.get<std::string>();
        }
        continue;
      }
      const auto where = msg(path, ": tensor '", name, "': ");
      if (!entry.is_object()) throw Error(msg(where, "entry is not an object (found ", entry.type_name(), ")"));
      if (!entry.contains("dtype") || !entry["dtype"].is_string()) throw Error(msg(where, "missing or non-string 'dtype'"));
      if (!entry.contains("shape") || !entry["shape"].is_array()) throw Error(msg(where, "missing or non-array 'shape'"));
      if (!entry.contains("data_offsets") || !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2)
        throw Error(msg(where, "'data_offsets' must be an array [begin, end]"));

      TensorInfo ti;
      ti.name = name;
      const auto dtype_name = entry["dtype"].get<std::string>();
      const auto dtype = io::dtype_from_safetensors(dtype_name);
      if (!dtype)
        throw Error(msg(where, "unknown dtype '", dtype_name, "' (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)"));
      ti.dtype = *dtype;

      uint64_t numel = 1;
      bool overflow = false;
      for (const auto& d : entry["shape"]) {
        const auto dim = non_negative_integer(d);
        if (!dim) throw Error(msg(where, "shape dimension ", describe_bad_integer(d)));
        if (*dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
          throw Error(msg(where, "shape dimension ", *dim, " is too large"));
        ti.shape.push_back(static_cast<int64_t>(*dim));
        overflow = overflow || __builtin_mul_overflow(numel, *dim, &numel);
      }
      const auto begin = non_negative_integer(entry["data_offsets"][0]);
      const auto end = non_negative_integer(entry["data_offsets"][1]);
      if (!begin) throw Error(msg(where, "data_offsets begin ", describe_bad_integer(entry["data_offsets"][0])));
      if (!end) throw Error(msg(where, "data_offsets end ", describe_bad_integer(entry["data_offsets"][1])));
      ti.begin = *begin;
      ti.end = *end;
      if (ti.begin > ti.end) throw Error(msg(where, "data_offsets begin ", ti.begin, " > end ", ti.end));
      if (ti.end > data_size)
        throw Error(msg(where, "data_offsets end ", ti.end, " is beyond the ", data_size, "-byte data section (truncated file?)"));
      uint64_t nbytes = 0;
      overflow = overflow || __builtin_mul_overflow(numel, static_cast<uint64_t>(io::dtype_size(ti.dtype)), &nbytes);
      if (overflow || nbytes != ti.end - ti.begin)
        throw Error(msg(where, "byte length ", ti.end - ti.begin, " != numel × element size (shape ",
                        entry["shape"].dump(), " of ", dtype_name, overflow ? " overflows" : msg(" needs ", nbytes), ")"));
      tensors_.emplace(name, std::move(ti));
    }

    // No two tensors may share bytes (empty tensors occupy none).
    std::vector<const TensorInfo*> by_offset;
    for (const auto& [name, ti] : tensors_)
      if (ti.end > ti.begin) by_offset.push_back(&ti);
    std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
      return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    for (size_t i = 1; i < by_offset.size(); ++i) {
      const auto* prev = by_offset[i - 1];
      const auto* cur = by_offset[i];
      if (cur->begin < prev->end)
        throw Error(msg(path, ": tensors '", prev->name, "' [", prev->begin, ", ", prev->end, ") and '", cur->name, "' [",
                        cur->begin, ", ", cur->end, ") overlap"));
    }
  } catch (...) {
    if (map_) ::munmap(map_, size_);
    if (fd_ >= 0) ::close(fd_);
    map_ = nullptr;
    fd_ = -1;
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, size_);
  if (fd_ >= 0) ::close(fd_);
}

bool SafetensorsFile::contains(const std::string& name) const { return tensors_.count(name) != 0; }

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error(msg(path_, ": no tensor '", name, "'"));
  return it->second;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& [name, ti] : tensors_) out.push_back(name);
  return out;  // std::map: already sorted
}

torch::Tensor SafetensorsFile::load(const std::string& name, torch::Device device, torch::ScalarType dtype) const {
  const auto& ti = info(name);
  const uint8_t* p = data_ + ti.begin;
  const auto file_opts = at::TensorOptions().dtype(ti.dtype).device(at::kCPU);
  at::Tensor src;
  if (reinterpret_cast<uintptr_t>(p) % io::dtype_size(ti.dtype) == 0) {
    // A view of the mapped bytes; never returned (the copy below owns its memory).
    src = at::from_blob(const_cast<uint8_t*>(p), ti.shape, file_opts);
  } else {
    // Offsets a writer chose without alignment: copy into aligned memory first.
    src = at::empty(ti.shape, file_opts);
    if (ti.end > ti.begin) std::memcpy(src.data_ptr(), p, ti.end - ti.begin);
  }
  // copy=true: even a same-device, same-dtype request gets its own storage, not the mapping.
  return src.to(device, dtype, /*non_blocking=*/false, /*copy=*/true);
}

// ---------------------------------------------------------------------------------------------
// Checkpoint

Checkpoint::Checkpoint(const std::string& dir) : dir_(dir) {
  if (!posix_files::is_directory(dir)) throw Error(msg(dir, ": checkpoint directory does not exist"));
  const std::string single = dir + "/model.safetensors";
  const std::string index = dir + "/model.safetensors.index.json";
  // transformers prefers the single file when both exist; so do we.
  if (posix_files::is_regular_file(single)) {
    files_.push_back(std::make_unique<SafetensorsFile>(single));
    for (const auto& n : files_[0]->names()) where_[n] = 0;
    return;
  }
  if (!posix_files::is_regular_file(index))
    throw Error(msg(dir, ": no model.safetensors or model.safetensors.index.json in the checkpoint directory"));

  json j;
  {
    std::ifstream f(index);
    if (!f) throw Error(msg(index, ": cannot open"));
    try {
      j = json::parse(f);
    } catch (const json::exception& e) {
      throw Error(msg(index, ": not valid JSON (", e.what(), ")"));
    }
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw Error(msg(index, ": expected an object with a \"weight_map\" object"));
  if (j["weight_map"].empty()) throw Error(msg(index, ": weight_map is empty"));

  std::map<std::string, size_t> shard_slot;
  for (const auto& [name, file_json] : j["weight_map"].items()) {
    if (!file_json.is_string()) throw Error(msg(index, ": weight_map entry for '", name, "' is not a string"));
    const auto file = file_json.get<std::string>();
    // Shards live beside the index; a path elsewhere is a corrupt or hostile index.
    if (file.empty() || file.find('/') != std::string::npos || file.find('\\') != std::string::npos || file == "." || file == "..")
      throw Error(msg(index, ": shard name '", file, "' for tensor '", name, "' is not a plain file name"));
    auto it = shard_slot.find(file);
    if (it == shard_slot.end()) {
      const std::string shard = dir + "/" + file;
      if (!posix_files::is_regular_file(shard))
        throw Error(msg(index, ": shard '", file, "' (holding tensor '", name, "') is missing from ", dir));
      files_.push_back(std::make_unique<SafetensorsFile>(shard));
      it = shard_slot.emplace(file, files_.size() - 1).first;
    }
    if (!files_[it->second]->contains(name))
      throw Error(msg(index, ": tensor '", name, "' is mapped to shard '", file, "', which does not contain it"));
    where_[name] = it->second;
  }
}

bool Checkpoint::contains(const std::string& name) const { return where_.count(name) != 0; }

torch::Tensor Checkpoint::load(const std::string& name, torch::Device device, torch::ScalarType dtype) const {
  const auto it = where_.find(name);
  if (it == where_.end()) throw Error(msg(dir_, ": checkpoint has no tensor '", name, "'"));
  return files_[it->second]->load(name, device, dtype);
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  out.reserve(where_.size());
  for (const auto& [name, slot] : where_) out.push_back(name);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writer

void save_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  std::vector<at::Tensor> blobs;
  blobs.reserve(tensors.size());
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {  // std::map: names sorted, data laid out in that order
    if (name == "__metadata__") throw Error(msg(path, ": '__metadata__' is reserved and cannot name a tensor"));
    if (!t.defined()) throw Error(msg(path, ": tensor '", name, "' is undefined"));
    const auto dtype_name = io::dtype_to_safetensors(t.scalar_type());
    if (!dtype_name) throw Error(msg(path, ": tensor '", name, "' has dtype ", t.scalar_type(), ", which safetensors cannot hold"));
    auto c = t.detach().to(at::kCPU).contiguous();
    const uint64_t nbytes = static_cast<uint64_t>(c.numel()) * io::dtype_size(c.scalar_type());
    header[name] = {{"dtype", *dtype_name}, {"shape", c.sizes().vec()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    blobs.push_back(std::move(c));
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;

  std::string h = header.dump();
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  h.append((8 - h.size() % 8) % 8, ' ');

  // Write beside the target and rename: a crash never leaves a half-written file under `path`.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw Error(msg(path, ": cannot open ", tmp, " for writing"));
    uint8_t len[8];
    const uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>((n >> (8 * i)) & 0xff);
    f.write(reinterpret_cast<const char*>(len), 8);
    f.write(h.data(), static_cast<std::streamsize>(h.size()));
    for (const auto& c : blobs)
      if (c.numel() > 0)
        f.write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(c.numel() * c.element_size()));
    f.flush();
    if (!f) {
      posix_files::remove_file_quietly(tmp);
      throw Error(msg(path, ": write failed (disk full?)"));
    }
  }
  if (const auto why = posix_files::rename_file(tmp, path); !why.empty()) {
    posix_files::remove_file_quietly(tmp);
    throw Error(msg(path, ": cannot move ", tmp, " into place: ", why));
  }
}

}  // namespace jenga::core
