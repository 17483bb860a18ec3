// The safetensors format: an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the raw data. Reader validates everything before
// trusting it; writer produces files HF/PEFT read.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace jenga::core {

struct TensorInfo {
  std::string name;
  torch::ScalarType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets in the data section
};

// One .safetensors file, memory-mapped. Constructor validates: file size >= 8; header length
// <= 100 MiB and within the file; header is a JSON object; each entry has a known dtype
// (F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL), a non-negative shape, offsets in range,
// end - begin == numel * element size, no overlaps; "__metadata__" is a string map.
// Any violation: Error naming the file, the tensor and what was wrong.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  bool contains(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;   // Error if absent
  std::vector<std::string> names() const;                   // sorted
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Copies a tensor out of the mapping to `device` as `dtype` (converting if needed).
  torch::Tensor load(const std::string& name, torch::Device device, torch::ScalarType dtype) const;

 private:
  std::string path_;
  int fd_ = -1;
  void* map_ = nullptr;
  size_t size_ = 0;
  const uint8_t* data_ = nullptr;  // start of the data section
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A checkpoint directory: model.safetensors, or shards listed by model.safetensors.index.json
// ({"weight_map": {name: shard file}}). Error when neither exists or a shard is missing.
class Checkpoint {
 public:
  explicit Checkpoint(const std::string& dir);
  bool contains(const std::string& name) const;
  torch::Tensor load(const std::string& name, torch::Device device, torch::ScalarType dtype) const;
  std::vector<std::string> names() const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;  // tensor name -> index in files_
};

// Writes tensors (moved to CPU, contiguous) in safetensors format, names sorted, 8-byte
// aligned header as HF writes it. Error if the file cannot be written.
void save_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace jenga::core
