//===- Npy.h - NumPy's .npy format: reader and writer -----------*- C++ -*-===//
//
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html:
// "\x93NUMPY", a version (1.0, 2.0 or 3.0), a little-endian header length
// (2 bytes in 1.0, 4 after), a Python dict literal with 'descr',
// 'fortran_order' and 'shape', then the data.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_NPY_H
#define HOPE_RUNTIME_LIB_NPY_H

#include "File.h"
#include "Tensor.h"

namespace hope::rt {

/// The array of an .npy file; <f4, <f8 and <i8 in C order only.
Expected<TensorRef> readNpy(const std::string &path);
/// The array of `file` (named after it in messages).
Expected<TensorRef> parseNpy(const FileBytes &file);

/// Writes `tensor` dense in C order (atomically).
Error writeNpy(const std::string &path, const hope_tensor &tensor);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_NPY_H
