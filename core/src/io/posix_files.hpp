// File-system calls for code linked with LibTorch, through POSIX rather than std::filesystem:
// torch's pip wheels export their own statically linked copy of libstdc++'s filesystem symbols,
// built by an older GCC, which then interpose ours with a different layout (pytorch/pytorch#133437;
// remove_all crashed our tests on the GPU machine).
#pragma once

#include <string>

namespace jenga::core::posix_files {

bool is_directory(const std::string& path);
bool is_regular_file(const std::string& path);
// mkdir -p; throws jenga::core::Error naming the path and errno's text.
void make_directories(const std::string& path);
// rename(2); on failure returns errno's text (empty on success).
std::string rename_file(const std::string& from, const std::string& to);
void remove_file_quietly(const std::string& path);
// rm -rf, via nftw; quiet when the path does not exist; returns false on any failure.
bool remove_tree(const std::string& path);

}  // namespace jenga::core::posix_files
