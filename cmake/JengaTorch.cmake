# Finds LibTorch and decides whether CUDA kernels are built.
#   Debian bookworm: libtorch-dev 1.13 (CPU) -> found in the system prefix.
#   GPU machine: torch 2.11 + CUDA 13 from python3 -> pass
#     -DCMAKE_PREFIX_PATH=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
# Sets JENGA_CUDA_ENABLED and JENGA_TORCH_HAS_CUDA (ON/OFF) for the rest of the build.
set(JENGA_CUDA_ENABLED OFF)
set(_want_cuda ${JENGA_CUDA})
if(_want_cuda STREQUAL "AUTO" OR _want_cuda)
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
endif()

# Torch's CMake config enables CUDA itself when it was built with CUDA; it needs the
# architecture list before that happens.
if(NOT CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 90a)
endif()
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(ENV{TORCH_CUDA_ARCH_LIST} "9.0a")
endif()

find_package(Torch REQUIRED)
# Torch's flags add -D_GLIBCXX_USE_CXX11_ABI; keep them for every torch target.

set(JENGA_TORCH_HAS_CUDA OFF)
if(TARGET torch_cuda OR TARGET c10_cuda OR CAFFE2_USE_CUDA)
  set(JENGA_TORCH_HAS_CUDA ON)
endif()

if(_want_cuda STREQUAL "AUTO")
  if(CMAKE_CUDA_COMPILER AND JENGA_TORCH_HAS_CUDA)
    set(JENGA_CUDA_ENABLED ON)
  endif()
elseif(_want_cuda)
  if(NOT CMAKE_CUDA_COMPILER OR NOT JENGA_TORCH_HAS_CUDA)
    message(FATAL_ERROR "JENGA_CUDA=ON but nvcc (${CMAKE_CUDA_COMPILER}) or a CUDA-enabled LibTorch (${JENGA_TORCH_HAS_CUDA}) is missing")
  endif()
  set(JENGA_CUDA_ENABLED ON)
endif()

if(JENGA_CUDA_ENABLED)
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
endif()

message(STATUS "jenga: LibTorch ${Torch_VERSION} (CUDA in torch: ${JENGA_TORCH_HAS_CUDA}), nvcc: ${CMAKE_CUDA_COMPILER}")
