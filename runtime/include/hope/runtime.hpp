//===- hope/runtime.hpp - C++ wrapper of the runtime's C API ----*- C++ -*-===//
//
// RAII handles over hope/runtime.h; failures come back as llvm::Error /
// llvm::Expected carrying a StatusError (the status's code and message).
// Header-only: it adds nothing the C API cannot do.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_HPP
#define HOPE_RUNTIME_HPP

#include "hope/runtime.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <utility>
#include <vector>

namespace hope {

/// A failed hope_status as an llvm::Error.
class StatusError : public llvm::ErrorInfo<StatusError> {
public:
  inline static char ID;

  StatusError(hope_code code, std::string message)
      : statusCode(code), text(std::move(message)) {}

  hope_code code() const { return statusCode; }
  std::string message() const override { return text; }
  void log(llvm::raw_ostream &os) const override { os << text; }
  std::error_code convertToErrorCode() const override {
    return llvm::inconvertibleErrorCode();
  }

private:
  hope_code statusCode;
  std::string text;
};

/// Takes ownership of `status` and returns it as an Error.
inline llvm::Error takeStatus(hope_status *status) {
  if (!status)
    return llvm::Error::success();
  auto error = llvm::make_error<StatusError>(hope_status_code(status),
                                             hope_status_message(status));
  hope_status_free(status);
  return error;
}

/// The code of `error` (HOPE_OK for success), consuming it.
inline hope_code codeOf(llvm::Error error) {
  hope_code code = HOPE_OK;
  llvm::handleAllErrors(
      std::move(error), [&](const StatusError &e) { code = e.code(); },
      [&](const llvm::ErrorInfoBase &) { code = HOPE_INTERNAL; });
  return code;
}

namespace detail {
// Statuses of calls that cannot fail on a valid handle.
inline void ignore(hope_status *status) { hope_status_free(status); }

template <typename T> struct RefTraits;
#define HOPE_REF_TRAITS(T)                                                     \
  template <> struct RefTraits<hope_##T> {                                     \
    static void retain(hope_##T *p) { ignore(hope_##T##_retain(p)); }          \
    static void release(hope_##T *p) { ignore(hope_##T##_release(p)); }        \
  };
HOPE_REF_TRAITS(tensor)
HOPE_REF_TRAITS(tensor_map)
HOPE_REF_TRAITS(module)
HOPE_REF_TRAITS(session)
#undef HOPE_REF_TRAITS

/// One counted reference to a C object.
template <typename T> class Ref {
public:
  Ref() = default;
  /// Adopts a reference the caller owns.
  explicit Ref(T *p) : ptr(p) {}
  Ref(const Ref &other) : ptr(other.ptr) {
    if (ptr)
      RefTraits<T>::retain(ptr);
  }
  Ref(Ref &&other) : ptr(std::exchange(other.ptr, nullptr)) {}
  Ref &operator=(Ref other) {
    std::swap(ptr, other.ptr);
    return *this;
  }
  ~Ref() {
    if (ptr)
      RefTraits<T>::release(ptr);
  }
  T *get() const { return ptr; }
  explicit operator bool() const { return ptr; }

private:
  T *ptr = nullptr;
};
} // namespace detail

template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> {
  static constexpr hope_dtype value = HOPE_DTYPE_F32;
};
template <> struct DTypeOf<double> {
  static constexpr hope_dtype value = HOPE_DTYPE_F64;
};
template <> struct DTypeOf<int64_t> {
  static constexpr hope_dtype value = HOPE_DTYPE_I64;
};

inline llvm::StringRef dtypeName(hope_dtype dtype) {
  const char *name = "?";
  detail::ignore(hope_dtype_name(dtype, &name));
  return name;
}

inline llvm::StringRef roleName(hope_role role) {
  const char *name = "?";
  detail::ignore(hope_role_name(role, &name));
  return name;
}

class Tensor {
public:
  Tensor() = default;
  /// Adopts a reference the caller owns.
  explicit Tensor(hope_tensor *tensor) : ref(tensor) {}

  /// A runtime-owned copy of `bytes` (zeros if `data` is null).
  static llvm::Expected<Tensor> create(hope_dtype dtype,
                                       llvm::ArrayRef<int64_t> shape,
                                       const void *data = nullptr,
                                       size_t bytes = 0) {
    hope_tensor *out = nullptr;
    if (auto error = takeStatus(hope_tensor_create(
            dtype, shape.size(), shape.data(), data, bytes, &out)))
      return std::move(error);
    return Tensor(out);
  }

  template <typename T>
  static llvm::Expected<Tensor> fromValues(llvm::ArrayRef<int64_t> shape,
                                           llvm::ArrayRef<T> values) {
    return create(DTypeOf<T>::value, shape, values.data(),
                  values.size() * sizeof(T));
  }

  /// Borrows `data`, which must outlive every reference to the tensor.
  static llvm::Expected<Tensor> wrap(hope_dtype dtype,
                                     llvm::ArrayRef<int64_t> shape, void *data,
                                     llvm::ArrayRef<int64_t> strides = {}) {
    hope_tensor *out = nullptr;
    if (auto error = takeStatus(hope_tensor_wrap(
            dtype, shape.size(), shape.data(),
            strides.empty() ? nullptr : strides.data(), data, &out)))
      return std::move(error);
    return Tensor(out);
  }

  hope_tensor *get() const { return ref.get(); }
  explicit operator bool() const { return bool(ref); }

  hope_dtype dtype() const {
    hope_dtype dtype = HOPE_DTYPE_F32;
    detail::ignore(hope_tensor_dtype(get(), &dtype));
    return dtype;
  }
  llvm::ArrayRef<int64_t> shape() const { return shapeAndStrides().first; }
  llvm::ArrayRef<int64_t> strides() const { return shapeAndStrides().second; }
  int64_t numel() const {
    int64_t numel = 0;
    detail::ignore(hope_tensor_numel(get(), &numel));
    return numel;
  }
  void *data() const {
    void *data = nullptr;
    detail::ignore(hope_tensor_data(get(), &data));
    return data;
  }

  /// The elements, dense and row-major; fails if T is not the dtype.
  template <typename T> llvm::Expected<std::vector<T>> toVector() const {
    if (dtype() != DTypeOf<T>::value)
      return llvm::make_error<StatusError>(
          HOPE_INVALID_ARGUMENT, "tensor has dtype " +
                                     dtypeName(dtype()).str() + ", not " +
                                     dtypeName(DTypeOf<T>::value).str());
    std::vector<T> values(numel());
    if (auto error = takeStatus(hope_tensor_copy_to(get(), values.data(),
                                                    values.size() * sizeof(T))))
      return std::move(error);
    return values;
  }

private:
  std::pair<llvm::ArrayRef<int64_t>, llvm::ArrayRef<int64_t>>
  shapeAndStrides() const {
    size_t rank = 0;
    const int64_t *shape = nullptr, *strides = nullptr;
    detail::ignore(hope_tensor_shape(get(), &rank, &shape, &strides));
    return {{shape, rank}, {strides, rank}};
  }

  detail::Ref<hope_tensor> ref;
};

class TensorMap {
public:
  TensorMap() = default;
  explicit TensorMap(hope_tensor_map *map) : ref(map) {}

  static llvm::Expected<TensorMap> create() {
    hope_tensor_map *out = nullptr;
    if (auto error = takeStatus(hope_tensor_map_create(&out)))
      return std::move(error);
    return TensorMap(out);
  }

  hope_tensor_map *get() const { return ref.get(); }

  llvm::Error set(llvm::StringRef name, const Tensor &tensor) {
    return takeStatus(
        hope_tensor_map_set(get(), name.str().c_str(), tensor.get()));
  }
  size_t size() const {
    size_t size = 0;
    detail::ignore(hope_tensor_map_size(get(), &size));
    return size;
  }
  /// The i-th name and tensor (i < size()).
  std::pair<llvm::StringRef, Tensor> entry(size_t index) const {
    const char *name = "";
    hope_tensor *tensor = nullptr;
    detail::ignore(hope_tensor_map_entry(get(), index, &name, &tensor));
    if (tensor)
      detail::ignore(hope_tensor_retain(tensor));
    return {name, Tensor(tensor)};
  }
  llvm::Expected<Tensor> find(llvm::StringRef name) const {
    hope_tensor *tensor = nullptr;
    if (auto error = takeStatus(
            hope_tensor_map_find(get(), name.str().c_str(), &tensor)))
      return std::move(error);
    detail::ignore(hope_tensor_retain(tensor));
    return Tensor(tensor);
  }

private:
  detail::Ref<hope_tensor_map> ref;
};

inline llvm::Expected<TensorMap> readSafetensors(llvm::StringRef path) {
  hope_tensor_map *out = nullptr;
  if (auto error = takeStatus(hope_safetensors_read(path.str().c_str(), &out)))
    return std::move(error);
  return TensorMap(out);
}

inline llvm::Error writeSafetensors(llvm::StringRef path,
                                    const TensorMap &map) {
  return takeStatus(hope_safetensors_write(path.str().c_str(), map.get()));
}

inline llvm::Expected<Tensor> readNpy(llvm::StringRef path) {
  hope_tensor *out = nullptr;
  if (auto error = takeStatus(hope_npy_read(path.str().c_str(), &out)))
    return std::move(error);
  return Tensor(out);
}

inline llvm::Error writeNpy(llvm::StringRef path, const Tensor &tensor) {
  return takeStatus(hope_npy_write(path.str().c_str(), tensor.get()));
}

/// An entry point's parameters, as its manifest declares them.
struct Signature {
  std::vector<hope_param> inputs;
  std::vector<hope_param> outputs;
};

class Module {
public:
  Module() = default;
  explicit Module(hope_module *module) : ref(module) {}

  static llvm::Expected<Module> load(llvm::StringRef path) {
    hope_module *out = nullptr;
    if (auto error = takeStatus(hope_module_load(path.str().c_str(), &out)))
      return std::move(error);
    return Module(out);
  }

  hope_module *get() const { return ref.get(); }

  /// See hope_module_set_threads.
  llvm::Error setThreads(int32_t threads) {
    return takeStatus(hope_module_set_threads(get(), threads));
  }
  /// See hope_module_threads.
  int32_t threads() const {
    int32_t threads = 1;
    detail::ignore(hope_module_threads(get(), &threads));
    return threads;
  }

  llvm::StringRef manifest() const {
    const char *json = "";
    detail::ignore(hope_module_manifest(get(), &json));
    return json;
  }
  llvm::StringRef model() const { return describe(0); }
  llvm::StringRef triple() const { return describe(1); }
  llvm::StringRef cpu() const { return describe(2); }

  std::vector<llvm::StringRef> entryPoints() const {
    size_t count = 0;
    detail::ignore(hope_module_entry_point_count(get(), &count));
    std::vector<llvm::StringRef> names;
    for (size_t i = 0; i < count; ++i) {
      const char *name = "";
      detail::ignore(hope_module_entry_point_name(get(), i, &name));
      names.push_back(name);
    }
    return names;
  }

  llvm::Expected<Signature> signature(llvm::StringRef function) const {
    std::string name = function.str();
    size_t nInputs = 0, nOutputs = 0;
    if (auto error = takeStatus(
            hope_module_signature(get(), name.c_str(), &nInputs, &nOutputs)))
      return std::move(error);
    Signature signature;
    signature.inputs.resize(nInputs);
    signature.outputs.resize(nOutputs);
    for (size_t i = 0; i < nInputs; ++i)
      detail::ignore(
          hope_module_input(get(), name.c_str(), i, &signature.inputs[i]));
    for (size_t i = 0; i < nOutputs; ++i)
      detail::ignore(
          hope_module_output(get(), name.c_str(), i, &signature.outputs[i]));
    return signature;
  }

private:
  llvm::StringRef describe(int which) const {
    const char *fields[3] = {"", "", ""};
    detail::ignore(
        hope_module_model(get(), &fields[0], &fields[1], &fields[2]));
    return fields[which];
  }

  detail::Ref<hope_module> ref;
};

class Session {
public:
  Session() = default;
  explicit Session(hope_session *session) : ref(session) {}

  static llvm::Expected<Session> create(const Module &module) {
    hope_session *out = nullptr;
    if (auto error = takeStatus(hope_session_create(module.get(), &out)))
      return std::move(error);
    return Session(out);
  }

  hope_session *get() const { return ref.get(); }

  llvm::Error loadWeights(llvm::StringRef path) {
    return takeStatus(hope_session_load_weights(get(), path.str().c_str()));
  }
  llvm::Error setWeight(llvm::StringRef name, const Tensor &tensor) {
    return takeStatus(
        hope_session_set_weight(get(), name.str().c_str(), tensor.get()));
  }

  /// Inputs and states in manifest order -> every output in manifest order.
  llvm::Expected<std::vector<Tensor>> invoke(llvm::StringRef function,
                                             llvm::ArrayRef<Tensor> inputs) {
    std::vector<hope_tensor *> in;
    for (const Tensor &tensor : inputs)
      in.push_back(tensor.get());
    size_t nInputs = 0, nOutputs = 0;
    std::string name = function.str();
    if (auto error = takeStatus(hope_module_signature(moduleOf(), name.c_str(),
                                                      &nInputs, &nOutputs)))
      return std::move(error);
    std::vector<hope_tensor *> out(nOutputs, nullptr);
    if (auto error = takeStatus(hope_session_invoke(
            get(), name.c_str(), in.data(), in.size(), out.data(), nOutputs)))
      return std::move(error);
    std::vector<Tensor> outputs;
    for (hope_tensor *tensor : out)
      outputs.emplace_back(tensor);
    return outputs;
  }

  /// Inputs and states by name -> every output by name.
  llvm::Expected<TensorMap> invoke(llvm::StringRef function,
                                   const TensorMap &inputs) {
    hope_tensor_map *out = nullptr;
    if (auto error = takeStatus(hope_session_invoke_map(
            get(), function.str().c_str(), inputs.get(), &out)))
      return std::move(error);
    return TensorMap(out);
  }

private:
  hope_module *moduleOf() const {
    hope_module *module = nullptr;
    detail::ignore(hope_session_module(get(), &module));
    return module;
  }

  detail::Ref<hope_session> ref;
};

} // namespace hope

#endif // HOPE_RUNTIME_HPP
