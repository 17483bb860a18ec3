// Element types the torch-free CUDA kernels are instantiated for.
#pragma once

namespace jenga::core::kernels {

enum class ElementType { F32, F16, BF16 };

}  // namespace jenga::core::kernels
