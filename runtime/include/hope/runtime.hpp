//===- hope/runtime.hpp - C++ wrapper of the runtime's C API ----*- C++ -*-===//
//
// RAII handles over hope/runtime.h; failures come back as hope::Error /
// hope::Expected (a status's code and message). Header-only, C++17 and the
// standard library only: it adds nothing the C API cannot do.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_HPP
#define HOPE_RUNTIME_HPP

#include "hope/runtime.h"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hope {

/// Success, or a failure's code and one-line message. Converts to true on
/// failure, like the status pointer it replaces.
class Error {
public:
  /// Success.
  Error() = default;
  Error(hope_code code, std::string message)
      : statusCode(code), text(std::move(message)) {}
  static Error success() { return Error(); }

  explicit operator bool() const { return statusCode != HOPE_OK; }
  hope_code code() const { return statusCode; }
  /// "OK" for success.
  const std::string &message() const { return text; }

private:
  hope_code statusCode = HOPE_OK;
  std::string text = "OK";
};

/// A value or the Error that prevented it.
template <typename T> class Expected {
public:
  Expected(T value) : value(std::move(value)) {}
  /// `error` must be a failure.
  Expected(Error error) : error(std::move(error)) {}

  explicit operator bool() const { return value.has_value(); }
  T &operator*() { return *value; }
  const T &operator*() const { return *value; }
  T *operator->() { return &*value; }
  const T *operator->() const { return &*value; }
  /// The failure; success if there is a value.
  Error takeError() { return error; }
  const Error &getError() const { return error; }

private:
  std::optional<T> value;
  Error error;
};

/// Takes ownership of `status` and returns it as an Error.
inline Error takeStatus(hope_status *status) {
  if (!status)
    return Error();
  Error error(hope_status_code(status), hope_status_message(status));
  hope_status_free(status);
  return error;
}

/// A view of `size` elements at `data` (a shape, strides or values).
template <typename T> class Span {
public:
  Span() = default;
  Span(const T *data, size_t size) : ptr(data), count(size) {}
  /// Any contiguous container of T (std::vector, std::array, ...).
  template <typename Container,
            typename = decltype(std::declval<const Container &>().data() +
                                std::declval<const Container &>().size())>
  Span(const Container &values) : ptr(values.data()), count(values.size()) {}
  Span(std::initializer_list<T> values)
      : ptr(values.begin()), count(values.size()) {}
  const T *data() const { return ptr; }
  size_t size() const { return count; }
  bool empty() const { return count == 0; }
  const T *begin() const { return ptr; }
  const T *end() const { return ptr + count; }
  const T &operator[](size_t i) const { return ptr[i]; }
  std::vector<T> vec() const { return std::vector<T>(begin(), end()); }
  bool operator==(Span other) const {
    if (count != other.count)
      return false;
    for (size_t i = 0; i < count; ++i)
      if (ptr[i] != other.ptr[i])
        return false;
    return true;
  }
  bool operator!=(Span other) const { return !(*this == other); }

private:
  const T *ptr = nullptr;
  size_t count = 0;
};

namespace detail {
// Statuses of calls that cannot fail on a valid handle.
inline void ignore(hope_status *status) { hope_status_free(status); }

template <typename T> struct RefTraits;
#define HOPE_REF_TRAITS(T)                                                     \
  template <> struct RefTraits<hope_##T> {                                     \
    static void retain(hope_##T *p) { hope_##T##_retain(p); }                  \
    static void release(hope_##T *p) { hope_##T##_release(p); }                \
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

inline std::string_view dtypeName(hope_dtype dtype) {
  const char *name = "?";
  detail::ignore(hope_dtype_name(dtype, &name));
  return name;
}

inline std::string_view roleName(hope_role role) {
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
  static Expected<Tensor> create(hope_dtype dtype,
                                       Span<int64_t> shape,
                                       const void *data = nullptr,
                                       size_t bytes = 0) {
    hope_tensor *out = nullptr;
    if (auto error = takeStatus(hope_tensor_create(
            dtype, shape.size(), shape.data(), data, bytes, &out)))
      return error;
    return Tensor(out);
  }

  template <typename T>
  static Expected<Tensor> fromValues(Span<int64_t> shape,
                                           Span<T> values) {
    return create(DTypeOf<T>::value, shape, values.data(),
                  values.size() * sizeof(T));
  }

  /// Borrows `data`, which must outlive every reference to the tensor.
  static Expected<Tensor> wrap(hope_dtype dtype, Span<int64_t> shape,
                               const void *data, Span<int64_t> strides = {}) {
    hope_tensor *out = nullptr;
    if (auto error = takeStatus(hope_tensor_wrap(
            dtype, shape.size(), shape.data(),
            strides.empty() ? nullptr : strides.data(), data, &out)))
      return error;
    return Tensor(out);
  }

  hope_tensor *get() const { return ref.get(); }
  explicit operator bool() const { return bool(ref); }

  hope_device device() const {
    hope_device device = HOPE_DEVICE_HOST;
    detail::ignore(hope_tensor_device(get(), &device));
    return device;
  }
  hope_dtype dtype() const {
    hope_dtype dtype = HOPE_DTYPE_F32;
    detail::ignore(hope_tensor_dtype(get(), &dtype));
    return dtype;
  }
  Span<int64_t> shape() const { return shapeAndStrides().first; }
  Span<int64_t> strides() const { return shapeAndStrides().second; }
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

  /// A dense host copy (this tensor itself if it is on the host).
  Expected<Tensor> toHost() const {
    hope_tensor *out = nullptr;
    if (auto error = takeStatus(hope_tensor_to_host(get(), &out)))
      return error;
    return Tensor(out);
  }

  /// The elements, dense and row-major; fails if T is not the dtype.
  template <typename T> Expected<std::vector<T>> toVector() const {
    if (dtype() != DTypeOf<T>::value)
      return Error(HOPE_INVALID_ARGUMENT,
                   "tensor has dtype " + std::string(dtypeName(dtype())) +
                       ", not " + std::string(dtypeName(DTypeOf<T>::value)));
    std::vector<T> values(numel());
    if (auto error = takeStatus(hope_tensor_copy_to(get(), values.data(),
                                                    values.size() * sizeof(T))))
      return error;
    return values;
  }

private:
  std::pair<Span<int64_t>, Span<int64_t>>
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

  static Expected<TensorMap> create() {
    hope_tensor_map *out = nullptr;
    if (auto error = takeStatus(hope_tensor_map_create(&out)))
      return error;
    return TensorMap(out);
  }

  hope_tensor_map *get() const { return ref.get(); }

  Error set(std::string_view name, const Tensor &tensor) {
    return takeStatus(
        hope_tensor_map_set(get(), std::string(name).c_str(), tensor.get()));
  }
  size_t size() const {
    size_t size = 0;
    detail::ignore(hope_tensor_map_size(get(), &size));
    return size;
  }
  /// The i-th name and tensor (i < size()).
  std::pair<std::string_view, Tensor> entry(size_t index) const {
    const char *name = "";
    hope_tensor *tensor = nullptr;
    detail::ignore(hope_tensor_map_entry(get(), index, &name, &tensor));
    if (tensor)
      hope_tensor_retain(tensor);
    return {name, Tensor(tensor)};
  }
  Expected<Tensor> find(std::string_view name) const {
    hope_tensor *tensor = nullptr;
    if (auto error = takeStatus(
            hope_tensor_map_find(get(), std::string(name).c_str(), &tensor)))
      return error;
    hope_tensor_retain(tensor);
    return Tensor(tensor);
  }

private:
  detail::Ref<hope_tensor_map> ref;
};

inline Expected<TensorMap> readSafetensors(std::string_view path) {
  hope_tensor_map *out = nullptr;
  if (auto error = takeStatus(hope_safetensors_read(std::string(path).c_str(), &out)))
    return error;
  return TensorMap(out);
}

inline Error writeSafetensors(std::string_view path,
                                    const TensorMap &map) {
  return takeStatus(hope_safetensors_write(std::string(path).c_str(), map.get()));
}

inline Expected<Tensor> readNpy(std::string_view path) {
  hope_tensor *out = nullptr;
  if (auto error = takeStatus(hope_npy_read(std::string(path).c_str(), &out)))
    return error;
  return Tensor(out);
}

inline Error writeNpy(std::string_view path, const Tensor &tensor) {
  return takeStatus(hope_npy_write(std::string(path).c_str(), tensor.get()));
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

  static Expected<Module> load(std::string_view path) {
    hope_module *out = nullptr;
    if (auto error = takeStatus(hope_module_load(std::string(path).c_str(), &out)))
      return error;
    return Module(out);
  }

  hope_module *get() const { return ref.get(); }

  /// See hope_module_threads.
  int32_t threads() const {
    int32_t threads = 1;
    detail::ignore(hope_module_threads(get(), &threads));
    return threads;
  }

  std::string_view manifest() const {
    const char *json = "";
    detail::ignore(hope_module_manifest(get(), &json));
    return json;
  }
  std::string_view model() const { return describe(0); }
  std::string_view triple() const { return describe(1); }
  std::string_view cpu() const { return describe(2); }

  std::vector<std::string_view> entryPoints() const {
    size_t count = 0;
    detail::ignore(hope_module_entry_point_count(get(), &count));
    std::vector<std::string_view> names;
    for (size_t i = 0; i < count; ++i) {
      const char *name = "";
      detail::ignore(hope_module_entry_point_name(get(), i, &name));
      names.push_back(name);
    }
    return names;
  }

  /// The GPU kernels of a CUDA artifact (0 for a CPU artifact).
  size_t kernelCount() const {
    size_t count = 0;
    detail::ignore(hope_module_kernel_count(get(), &count));
    return count;
  }

  Expected<Signature> signature(std::string_view function) const {
    std::string name(function);
    size_t nInputs = 0, nOutputs = 0;
    if (auto error = takeStatus(
            hope_module_signature(get(), name.c_str(), &nInputs, &nOutputs)))
      return error;
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
  std::string_view describe(int which) const {
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

  /// `options` null: the defaults (see hope_session_create).
  static Expected<Session> create(const Module &module,
                                  const hope_session_options *options = nullptr) {
    hope_session *out = nullptr;
    if (auto error =
            takeStatus(hope_session_create(module.get(), options, &out)))
      return error;
    return Session(out);
  }

  hope_session *get() const { return ref.get(); }

  Error loadWeights(std::string_view path) {
    return takeStatus(hope_session_load_weights(get(), std::string(path).c_str()));
  }
  Error setWeight(std::string_view name, const Tensor &tensor,
                  hope_weight_kind kind = HOPE_WEIGHT_CONSTANT) {
    return takeStatus(hope_session_set_weight(get(), std::string(name).c_str(),
                                              tensor.get(), kind));
  }

  /// Inputs and states in manifest order -> every output in manifest order.
  Expected<std::vector<Tensor>> invoke(std::string_view function,
                                             Span<Tensor> inputs) {
    std::vector<hope_tensor *> in;
    for (const Tensor &tensor : inputs)
      in.push_back(tensor.get());
    size_t nInputs = 0, nOutputs = 0;
    std::string name(function);
    if (auto error = takeStatus(hope_module_signature(moduleOf(), name.c_str(),
                                                      &nInputs, &nOutputs)))
      return error;
    std::vector<hope_tensor *> out(nOutputs, nullptr);
    if (auto error = takeStatus(hope_session_invoke(
            get(), name.c_str(), in.data(), in.size(), out.data(), nOutputs)))
      return error;
    std::vector<Tensor> outputs;
    for (hope_tensor *tensor : out)
      outputs.emplace_back(tensor);
    return outputs;
  }

  hope_device device() const {
    hope_device device = HOPE_DEVICE_HOST;
    detail::ignore(hope_session_device(get(), &device));
    return device;
  }
  /// A dense copy of `tensor` where the session runs.
  Expected<Tensor> toDevice(const Tensor &tensor) {
    hope_tensor *out = nullptr;
    if (auto error = takeStatus(hope_tensor_to_device(get(), tensor.get(), &out)))
      return error;
    return Tensor(out);
  }
  hope_device_stats deviceStats() const {
    hope_device_stats stats{};
    stats.struct_size = sizeof(stats);
    detail::ignore(hope_session_device_stats(get(), &stats));
    return stats;
  }
  Error setProfiling(bool enabled) {
    return takeStatus(hope_session_set_profiling(get(), enabled ? 1 : 0));
  }
  Expected<hope_kernel_stats> kernelStats(size_t index) const {
    hope_kernel_stats stats{};
    if (auto error = takeStatus(hope_session_kernel_stats(get(), index, &stats)))
      return error;
    return stats;
  }
  /// The image loaded and the device ("" for a host session).
  std::pair<std::string_view, std::string_view> deviceInfo() const {
    const char *image = nullptr, *device = nullptr;
    detail::ignore(hope_session_device_info(get(), &image, &device));
    return {image ? image : "", device ? device : ""};
  }

  /// Inputs and states by name -> every output by name.
  Expected<TensorMap> invoke(std::string_view function,
                                   const TensorMap &inputs) {
    hope_tensor_map *out = nullptr;
    if (auto error = takeStatus(hope_session_invoke_map(
            get(), std::string(function).c_str(), inputs.get(), &out)))
      return error;
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
