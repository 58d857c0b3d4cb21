//===- Invoke.h - the steps of calling an entry point -----------*- C++ -*-===//
//
// Shared by the host's invoke (Invoke.cpp) and the CUDA backend's
// (cuda/CudaInvoke.cpp): both check inputs and outputs alike and differ in
// where the memory is and how the entry point is called.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_INVOKE_H
#define HOPE_RUNTIME_LIB_INVOKE_H

#include "MemRefDescriptor.h"
#include "Session.h"
#include "Shapes.h"

namespace hope::rt {

/// Every input of `entry`, weights included (from the session), in manifest
/// order, checked against the manifest (dtype, shape, symbolic sizes bound
/// in `dims`, and on the session's device); not made dense.
Expected<std::vector<TensorRef>> checkInputs(const hope_session &session,
                                             const EntryPoint &entry,
                                             Span<hope_tensor *> callerInputs,
                                             DimBindings &dims);

/// Checks output `index` of `entry` as the artifact returned it in
/// `descriptor` (shape, buffer, offset); returns its element count.
Expected<int64_t> checkOutput(const EntryPoint &entry, size_t index,
                              const Descriptor &descriptor, DimBindings &dims);

/// The error for an entry point's nonzero status `broken`: the broken
/// precondition, or an artifact that returned a status it does not list.
Error preconditionError(const EntryPoint &entry, int32_t broken);

namespace cuda {
/// Runs entry point `entry` of a session on a CUDA device (CudaInvoke.cpp)
/// on `inputs` as checkInputs returned them.
Expected<std::vector<TensorRef>> invoke(const hope_session &session,
                                        size_t entry,
                                        std::vector<TensorRef> inputs,
                                        DimBindings &dims);
} // namespace cuda

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_INVOKE_H
