//===- hope-run.cpp - run an entry point of a compiled artifact -----------===//
//
// Loads an artifact, binds its weights, runs one entry point on inputs given
// on the command line or in .npy files, and writes or prints its outputs.
// Flags follow iree-run-module: --module, --function, --input=SHAPExTYPE=...
// and --output=@file.npy. Every failure is one line on stderr and exit 1.
//
// It links the runtime's shared library and LLVM's Support library
// statically (for its flags and printing): it needs no LLVM or MLIR library
// at run time.
//
//===----------------------------------------------------------------------===//

#include "hope/runtime.hpp"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <chrono>
#include <optional>

using namespace llvm;

static cl::OptionCategory category("hope-run options");

static cl::opt<std::string>
    modulePath("module", cl::desc("The compiled artifact (.so) to load"),
               cl::value_desc("file"), cl::cat(category));

static cl::opt<std::string>
    function("function",
             cl::desc("The entry point to run (may be omitted when the "
                      "artifact has only one)"),
             cl::value_desc("name"), cl::cat(category));

static cl::opt<std::string>
    weightsPath("weights",
                cl::desc("Safetensors file holding every weight, by name"),
                cl::value_desc("file"), cl::cat(category));

static cl::list<std::string> inputs(
    "input",
    cl::desc("One input (role 'input'), in the entry point's order:\n"
             "  SHAPExTYPE=@file.npy   the array of a .npy file\n"
             "  @file.npy              the same, shape and type from the file\n"
             "  SHAPExTYPE=v1,v2,...   inline values, row-major; one value\n"
             "                         fills the shape\n"
             "TYPE is f32, f64 or i64: --input=2x2xf32=1,2,3,4, "
             "--input=i64=7"),
    cl::value_desc("value"), cl::cat(category));

static cl::list<std::string> outputs(
    "output",
    cl::desc("Where one output (role 'output') goes, in the entry point's "
             "order:\n"
             "  @file.npy  write a .npy file\n"
             "  -          print it\n"
             "  (empty)    drop it\n"
             "With no --output, every output is printed"),
    cl::value_desc("target"), cl::cat(category));

static cl::opt<std::string>
    stateIn("state-in",
            cl::desc("Safetensors file holding every state input, by name (as "
                     "--state-out writes them)"),
            cl::value_desc("file"), cl::cat(category));

static cl::opt<std::string>
    stateOut("state-out",
             cl::desc("Safetensors file to write the state outputs to "
                      "(they are dropped without it)"),
             cl::value_desc("file"), cl::cat(category));

static cl::opt<int64_t> numThreads(
    "num-threads",
    cl::desc("Threads for the artifact's parallel loops, 1 to 1024 (default "
             "0: OMP_NUM_THREADS, else one per core)"),
    cl::init(0), cl::value_desc("n"), cl::cat(category));

static cl::opt<std::string> deviceName(
    "device",
    cl::desc("Where the session runs: host, or cuda (an NVIDIA GPU through "
             "its driver, libcuda.so.1; for an artifact compiled for "
             "cuda-emulated, the runtime's CPU stand-in for it). Default: "
             "the device the artifact was compiled for. On cuda, the inputs, "
             "states and weights are copied to the device before the first "
             "call (not timed) and the outputs back after the last"),
    cl::value_desc("host|cuda"), cl::cat(category));

static cl::opt<bool> profile(
    "profile",
    cl::desc("On a device: print to stderr the image loaded, each kernel's "
             "launches and device time (CUDA events, summed over the calls), "
             "the launches per call and the device memory used (in use, "
             "peak, reserved by the session's arena); also in "
             "--timings-json"),
    cl::cat(category));

static cl::opt<unsigned> repeat(
    "repeat",
    cl::desc("Call the entry point this many times on the same inputs and "
             "print the median, fastest and slowest call to stderr (the "
             "outputs written are the last call's; default 1)"),
    cl::init(1), cl::value_desc("n"), cl::cat(category));

static cl::opt<std::string> timingsJson(
    "timings-json",
    cl::desc("Write the duration of every call, in seconds, their median, "
             "the number of threads used and the process's peak resident "
             "memory to this JSON file (for benchmark drivers)"),
    cl::value_desc("file"), cl::cat(category));

static cl::opt<bool>
    listEntryPoints("list",
                    cl::desc("Print the entry points and their signatures, "
                             "then exit"),
                    cl::cat(category));

/// The runtime's errors as LLVM's, for the rest of the tool.
static Error lift(hope::Error error) {
  if (!error)
    return Error::success();
  return createStringError(error.message());
}
template <typename T> static Expected<T> lift(hope::Expected<T> value) {
  if (!value)
    return lift(value.takeError());
  return std::move(*value);
}

static ArrayRef<int64_t> dims(hope::Span<int64_t> shape) {
  return ArrayRef<int64_t>(shape.data(), shape.size());
}

/// `name` with control and non-ASCII bytes escaped (names come from files).
static std::string escaped(StringRef name) {
  std::string text;
  raw_string_ostream os(text);
  printEscapedString(name, os);
  return text;
}

/// "[B, T, 384]".
static std::string formatShape(const hope_param &param) {
  SmallVector<std::string> dims;
  for (size_t i = 0; i < param.rank; ++i)
    dims.push_back(param.dim_names[i] ? std::string(param.dim_names[i])
                                      : std::to_string(param.shape[i]));
  return "[" + join(dims, ", ") + "]";
}

/// "2x3xf32", IREE's spelling of a tensor type.
static std::string formatType(hope_dtype dtype, ArrayRef<int64_t> shape) {
  std::string text;
  for (int64_t size : shape)
    text += std::to_string(size) + "x";
  return text + std::string(hope::dtypeName(dtype));
}

static void printSignatures(const hope::Module &module) {
  outs() << "model " << escaped(module.model()) << " ("
         << escaped(module.triple()) << ", cpu " << escaped(module.cpu())
         << ")\n";
  // A CUDA artifact's target and kernels, from its manifest (checked by the
  // runtime when it loaded the artifact).
  if (module.kernelCount() > 0)
    if (Expected<json::Value> manifest = json::parse(module.manifest())) {
      const json::Object *root = manifest->getAsObject();
      const json::Object *target = root->getObject("target");
      const json::Array *chips = target->getArray("chips");
      outs() << "target " << escaped(*target->getString("kind"));
      if (chips) {
        SmallVector<std::string> names;
        for (const json::Value &chip : *chips)
          names.push_back(escaped(*chip.getAsString()));
        outs() << " (" << join(names, ", ") << ")";
      }
      outs() << ", kernels:\n";
      for (const json::Value &kernel : *root->getArray("kernels")) {
        const json::Object &spec = *kernel.getAsObject();
        const json::Array &block = *spec.getArray("block");
        outs() << formatv("  {0}: block {1}x{2}x{3}, {4} bytes of shared "
                          "memory\n",
                          escaped(*spec.getString("name")), *block[0].getAsInteger(),
                          *block[1].getAsInteger(), *block[2].getAsInteger(),
                          *spec.getInteger("shared_bytes"));
      }
    } else {
      consumeError(manifest.takeError());
    }
  for (std::string_view name : module.entryPoints()) {
    hope::Expected<hope::Signature> signature = module.signature(name);
    if (!signature)
      continue;
    outs() << escaped(name) << "\n";
    // Columns as wide as the longest name of the entry point.
    size_t width = 16;
    for (const auto *params : {&signature->inputs, &signature->outputs})
      for (const hope_param &param : *params)
        width = std::max(width, escaped(param.name).size());
    auto print = [&](StringRef title, ArrayRef<hope_param> params) {
      outs() << "  " << title << ":\n";
      for (const hope_param &param : params)
        outs() << "    " << left_justify(escaped(param.name), width) << " "
               << formatv("{0,-6} {1} {2}\n",
                          StringRef(hope::roleName(param.role)),
                          StringRef(hope::dtypeName(param.dtype)),
                          escaped(formatShape(param)));
    };
    print("inputs", signature->inputs);
    print("outputs", signature->outputs);
  }
}

/// "2x3xf32" -> f32 and [2, 3].
static Expected<std::pair<hope_dtype, SmallVector<int64_t>>>
parseType(StringRef text) {
  SmallVector<StringRef> parts;
  text.split(parts, 'x');
  std::optional<hope_dtype> dtype;
  for (hope_dtype candidate : {HOPE_DTYPE_F32, HOPE_DTYPE_F64, HOPE_DTYPE_I64})
    if (parts.back() == StringRef(hope::dtypeName(candidate)))
      dtype = candidate;
  if (!dtype)
    return createStringError("'" + text +
                             "' does not end in a type (f32, f64 or i64)");
  SmallVector<int64_t> shape;
  for (StringRef part : ArrayRef(parts).drop_back()) {
    int64_t size;
    if (part.getAsInteger(10, size) || size < 0)
      return createStringError("'" + part + "' in '" + text +
                               "' is not a size");
    shape.push_back(size);
  }
  return std::make_pair(*dtype, shape);
}

template <typename T>
static Error fill(const hope::Tensor &tensor, ArrayRef<StringRef> values) {
  auto *data = static_cast<T *>(tensor.data());
  int64_t count = tensor.numel();
  // One value fills the shape: parsed once (the inputs of a benchmark are
  // millions of elements).
  int64_t parsed = values.size() == 1 ? std::min<int64_t>(count, 1) : count;
  for (int64_t i = 0; i < parsed; ++i) {
    StringRef text = values[i];
    if constexpr (std::is_integral_v<T>) {
      if (text.getAsInteger(10, data[i]))
        return createStringError("'" + text + "' is not an integer");
    } else {
      double value;
      if (text.getAsDouble(value))
        return createStringError("'" + text + "' is not a number");
      data[i] = T(value);
    }
  }
  std::fill(data + parsed, data + count, parsed ? data[0] : T());
  return Error::success();
}

/// One --input value as a tensor.
static Expected<hope::Tensor> parseInput(StringRef spec) {
  if (spec.starts_with("@"))
    return lift(hope::readNpy(spec.drop_front()));
  auto [typeText, valueText] = spec.split('=');
  if (!spec.contains('='))
    return createStringError(
        "expected SHAPExTYPE=VALUES, SHAPExTYPE=@file.npy or @file.npy");
  auto type = parseType(typeText);
  if (!type)
    return type.takeError();
  auto [dtype, shape] = *type;

  if (valueText.starts_with("@")) {
    Expected<hope::Tensor> tensor = lift(hope::readNpy(valueText.drop_front()));
    if (!tensor)
      return tensor.takeError();
    if (tensor->dtype() != dtype || dims(tensor->shape()) != ArrayRef(shape))
      return createStringError(
          valueText.drop_front() + " holds " +
          formatType(tensor->dtype(), dims(tensor->shape())) + ", not " +
          typeText);
    return tensor;
  }

  SmallVector<StringRef> values;
  SplitString(valueText, values, ", \t");
  Expected<hope::Tensor> tensor = lift(hope::Tensor::create(dtype, shape));
  if (!tensor)
    return tensor.takeError();
  if (values.size() != 1 && int64_t(values.size()) != tensor->numel())
    return createStringError(typeText + " has " + Twine(tensor->numel()) +
                             " elements but " + Twine(values.size()) +
                             " values were given");
  Error error = dtype == HOPE_DTYPE_F32   ? fill<float>(*tensor, values)
                : dtype == HOPE_DTYPE_F64 ? fill<double>(*tensor, values)
                                          : fill<int64_t>(*tensor, values);
  if (error)
    return std::move(error);
  return tensor;
}

/// Prints IREE's form: "2x3xf32=[1 2 3][4 5 6]".
template <typename T>
static void printValues(raw_ostream &os, ArrayRef<int64_t> shape,
                        ArrayRef<T> values, size_t dim, size_t &next,
                        bool bracket) {
  if (bracket)
    os << '[';
  if (dim + 1 >= shape.size()) {
    int64_t count = shape.empty() ? 1 : shape[dim];
    for (int64_t i = 0; i < count; ++i, ++next) {
      if (i)
        os << ' ';
      if constexpr (std::is_integral_v<T>)
        os << values[next];
      else
        os << format("%g", double(values[next]));
    }
  } else {
    for (int64_t i = 0; i < shape[dim]; ++i)
      printValues(os, shape, values, dim + 1, next, true);
  }
  if (bracket)
    os << ']';
}

template <typename T>
static Error printTensor(raw_ostream &os, const hope::Tensor &tensor) {
  Expected<std::vector<T>> values = lift(tensor.toVector<T>());
  if (!values)
    return values.takeError();
  os << formatType(tensor.dtype(), dims(tensor.shape())) << '=';
  size_t next = 0;
  if (!values->empty() || tensor.shape().empty())
    printValues<T>(os, dims(tensor.shape()), *values, 0, next, false);
  os << '\n';
  return Error::success();
}

static Error print(StringRef name, const hope::Tensor &tensor) {
  outs() << escaped(name) << ": ";
  switch (tensor.dtype()) {
  case HOPE_DTYPE_F32:
    return printTensor<float>(outs(), tensor);
  case HOPE_DTYPE_F64:
    return printTensor<double>(outs(), tensor);
  case HOPE_DTYPE_I64:
    return printTensor<int64_t>(outs(), tensor);
  default:
    return createStringError("dtype " +
                             std::string(hope::dtypeName(tensor.dtype())) +
                             " cannot be printed");
  }
}

/// The entry point to run: --function, or the only one there is.
static Expected<std::string> chooseFunction(const hope::Module &module) {
  if (!function.empty())
    return function;
  std::vector<std::string_view> names = module.entryPoints();
  if (names.size() == 1)
    return std::string(names.front());
  std::vector<std::string> quoted;
  for (std::string_view name : names)
    quoted.push_back(escaped(name));
  return createStringError("--function is required (entry points: " +
                           join(quoted, ", ") + ")");
}

/// Builds the inputs and states by name from --input and --state-in.
static Expected<hope::TensorMap>
gatherInputs(StringRef name, const hope::Signature &signature) {
  Expected<hope::TensorMap> map = lift(hope::TensorMap::create());
  if (!map)
    return map.takeError();
  SmallVector<const hope_param *> plain, states;
  for (const hope_param &param : signature.inputs) {
    if (param.role == HOPE_ROLE_INPUT)
      plain.push_back(&param);
    else if (param.role == HOPE_ROLE_STATE)
      states.push_back(&param);
  }
  auto names = [](ArrayRef<const hope_param *> params) {
    SmallVector<StringRef> names;
    for (const hope_param *param : params)
      names.push_back(param->name);
    return join(names, ", ");
  };

  if (inputs.size() != plain.size())
    return createStringError(name + " takes " + Twine(plain.size()) +
                             " inputs (" + names(plain) + ") but " +
                             Twine(inputs.size()) + " --input were given");
  for (auto [spec, param] : zip_equal(inputs, plain)) {
    Expected<hope::Tensor> tensor = parseInput(spec);
    if (!tensor)
      return createStringError("--input=" + spec + ": " +
                               toString(tensor.takeError()));
    if (Error error = lift(map->set(param->name, *tensor)))
      return std::move(error);
  }

  if (states.empty() && stateIn.empty())
    return map;
  if (stateIn.empty())
    return createStringError(name + " has state inputs (" + names(states) +
                             "): pass them with --state-in=FILE");
  Expected<hope::TensorMap> file = lift(hope::readSafetensors(stateIn));
  if (!file)
    return file.takeError();
  for (size_t i = 0; i < file->size(); ++i) {
    StringRef stateName(file->entry(i).first);
    if (none_of(states, [&](const hope_param *param) {
          return stateName == param->name;
        }))
      return createStringError(
          stateIn + ": tensor '" + escaped(stateName) + "' is not a state of " + name +
          " (states: " + (states.empty() ? "none" : names(states)) + ")");
  }
  for (const hope_param *param : states) {
    hope::Expected<hope::Tensor> tensor = file->find(param->name);
    if (!tensor)
      return createStringError(stateIn + ": no tensor '" + param->name +
                               "' (a state of " + name + ")");
    if (Error error = lift(map->set(param->name, *tensor)))
      return std::move(error);
  }
  return map;
}

/// This process's peak resident memory in bytes (Linux: VmHWM, which exec
/// resets, unlike getrusage's maximum), if known.
static std::optional<int64_t> peakResidentBytes() {
  ErrorOr<std::unique_ptr<MemoryBuffer>> status =
      MemoryBuffer::getFileAsStream("/proc/self/status");
  if (!status)
    return std::nullopt;
  for (StringRef line : split((*status)->getBuffer(), '\n')) {
    int64_t kib;
    if (line.consume_front("VmHWM:") &&
        !line.trim().drop_back(3).trim().getAsInteger(10, kib))
      return kib * 1024;
  }
  return std::nullopt;
}

/// The median, fastest and slowest of `seconds` on stderr (with --repeat)
/// and all of them in --timings-json.
static Error reportTimings(StringRef function, int32_t threads,
                           ArrayRef<double> seconds,
                           std::optional<json::Object> device) {
  SmallVector<double> sorted(seconds);
  llvm::sort(sorted);
  double median = sorted.size() % 2
                      ? sorted[sorted.size() / 2]
                      : (sorted[sorted.size() / 2 - 1] +
                         sorted[sorted.size() / 2]) / 2;
  if (seconds.size() > 1)
    errs() << formatv("hope-run: {0}: {1} calls, median {2:f3} ms, fastest "
                      "{3:f3} ms, slowest {4:f3} ms\n",
                      function, seconds.size(), median * 1e3,
                      sorted.front() * 1e3, sorted.back() * 1e3);
  if (timingsJson.empty())
    return Error::success();
  json::Object timings{{"function", function},
                       {"threads", threads},
                       {"seconds", json::Array(seconds)},
                       {"median_seconds", median}};
  if (std::optional<int64_t> peak = peakResidentBytes())
    timings["peak_rss_bytes"] = *peak;
  if (device)
    timings["device"] = std::move(*device);
  std::error_code ec;
  raw_fd_ostream os(timingsJson, ec);
  if (ec)
    return createStringError("cannot write '" + timingsJson +
                             "': " + ec.message());
  os << formatv("{0:2}", json::Value(std::move(timings))) << "\n";
  return Error::success();
}

/// "1.5 MiB".
static std::string formatBytes(uint64_t bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = double(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? formatv("{0} B", bytes).str()
                   : formatv("{0:f1} {1}", value, units[unit]).str();
}

/// --profile: what the session's calls did on the device, on stderr, and
/// the same as JSON.
static json::Object reportProfile(StringRef function,
                                  const hope::Module &module,
                                  const hope::Session &session) {
  hope_device_stats stats = session.deviceStats();
  auto [image, device] = session.deviceInfo();
  errs() << formatv("hope-run: {0} on {1}, image {2}: {3} calls, {4} kernel "
                    "launches per call\n",
                    function, device, image, stats.calls,
                    stats.last_call_launches);
  json::Array kernels;
  size_t width = 6;
  for (size_t k = 0; k < module.kernelCount(); ++k)
    if (hope::Expected<hope_kernel_stats> kernel = session.kernelStats(k))
      width = std::max(width, StringRef(kernel->name).size());
  errs() << "  " << left_justify("kernel", width)
         << "    launches    total ms   ms/launch\n";
  for (size_t k = 0; k < module.kernelCount(); ++k) {
    hope::Expected<hope_kernel_stats> kernel = session.kernelStats(k);
    if (!kernel)
      continue;
    double each = kernel->launches ? kernel->milliseconds / kernel->launches : 0;
    errs() << "  " << left_justify(escaped(kernel->name), width)
           << formatv(" {0,11} {1,11:f3} {2,11:f4}\n", kernel->launches,
                      kernel->milliseconds, each);
    kernels.push_back(json::Object{{"name", kernel->name},
                                   {"launches", int64_t(kernel->launches)},
                                   {"milliseconds", kernel->milliseconds}});
  }
  errs() << formatv("hope-run: device memory: {0} in use, {1} peak, {2} "
                    "reserved\n",
                    formatBytes(stats.bytes_in_use),
                    formatBytes(stats.bytes_peak),
                    formatBytes(stats.bytes_reserved));
  return json::Object{{"device", std::string(device)},
                      {"image", std::string(image)},
                      {"launches_per_call", int64_t(stats.last_call_launches)},
                      {"kernels", std::move(kernels)},
                      {"device_bytes_peak", int64_t(stats.bytes_peak)},
                      {"device_bytes_reserved", int64_t(stats.bytes_reserved)}};
}

/// Checks that `path`, given with `flag`, can be written, before the run
/// whose result goes there: its folder exists and is writable.
static Error checkWritable(StringRef flag, StringRef path) {
  if (sys::fs::is_directory(path))
    return createStringError(flag + "=" + path + ": is a directory");
  SmallString<256> folder(path);
  sys::path::remove_filename(folder);
  if (folder.empty())
    folder = ".";
  if (!sys::fs::is_directory(folder))
    return createStringError(flag + "=" + path + ": no folder '" + folder +
                             "'");
  if (sys::fs::access(folder, sys::fs::AccessMode::Write))
    return createStringError(flag + "=" + path + ": folder '" + folder +
                             "' is not writable");
  return Error::success();
}

static Error run() {
  if (numThreads < 0 || numThreads > HOPE_MAX_THREADS)
    return createStringError("--num-threads=" + Twine(numThreads) +
                             " is out of range (0 for the default, or 1 to " +
                             Twine(HOPE_MAX_THREADS) + ")");
  Expected<hope::Module> module = lift(hope::Module::load(modulePath));
  if (!module)
    return module.takeError();
  if (listEntryPoints) {
    printSignatures(*module);
    return Error::success();
  }
  Expected<std::string> name = chooseFunction(*module);
  if (!name)
    return name.takeError();
  Expected<hope::Signature> signature = lift(module->signature(*name));
  if (!signature)
    return signature.takeError();

  // Check --output, --state-out and --weights before running anything.
  SmallVector<const hope_param *> results;
  SmallVector<std::string> stateNames, weightNames;
  for (const hope_param &param : signature->outputs) {
    if (param.role == HOPE_ROLE_OUTPUT)
      results.push_back(&param);
    else
      stateNames.push_back(param.name);
  }
  for (const hope_param &param : signature->inputs)
    if (param.role == HOPE_ROLE_WEIGHT)
      weightNames.push_back(param.name);
  if (!outputs.empty() && outputs.size() != results.size())
    return createStringError(*name + " has " + Twine(results.size()) +
                             " outputs but " + Twine(outputs.size()) +
                             " --output were given");
  for (StringRef target : outputs) {
    if (!target.empty() && target != "-" && !target.starts_with("@"))
      return createStringError("--output=" + target +
                               ": expected @file.npy, - or nothing");
    if (target.starts_with("@"))
      if (Error error = checkWritable("--output", target.drop_front()))
        return error;
  }
  if (!stateOut.empty()) {
    if (stateNames.empty())
      return createStringError("--state-out=" + stateOut + ": " + *name +
                               " has no state outputs");
    if (Error error = checkWritable("--state-out", stateOut))
      return error;
  }
  if (!timingsJson.empty())
    if (Error error = checkWritable("--timings-json", timingsJson))
      return error;
  if (weightsPath.empty() && !weightNames.empty())
    return createStringError(*name + " needs weights (" +
                             join(weightNames, ", ") +
                             "): pass them with --weights=FILE");

  hope_session_options options{};
  options.struct_size = sizeof(options);
  options.threads = int32_t(numThreads);
  if (deviceName.empty())
    options.device = hope_device(0); // the artifact's
  else if (deviceName == "host")
    options.device = HOPE_DEVICE_HOST;
  else if (deviceName == "cuda")
    options.device = HOPE_DEVICE_CUDA;
  else
    return createStringError("--device=" + deviceName +
                             ": expected host or cuda");
  Expected<hope::Session> session =
      lift(hope::Session::create(*module, &options));
  if (!session)
    return session.takeError();
  bool onDevice = session->device() != HOPE_DEVICE_HOST;
  if (profile && onDevice)
    if (Error error = lift(session->setProfiling(true)))
      return error;
  if (!weightsPath.empty())
    if (Error error = lift(session->loadWeights(weightsPath)))
      return error;
  Expected<hope::TensorMap> given = gatherInputs(*name, *signature);
  if (!given)
    return given.takeError();
  if (onDevice) {
    // Inputs and states go to the device once, before the timed calls.
    Expected<hope::TensorMap> copies = lift(hope::TensorMap::create());
    if (!copies)
      return copies.takeError();
    for (size_t i = 0; i < given->size(); ++i) {
      auto [inputName, tensor] = given->entry(i);
      Expected<hope::Tensor> copy = lift(session->toDevice(tensor));
      if (!copy)
        return copy.takeError();
      if (Error error = lift(copies->set(inputName, *copy)))
        return error;
    }
    given = std::move(copies);
  }

  if (repeat == 0)
    return createStringError("--repeat must be at least 1");
  std::optional<hope::TensorMap> produced;
  std::vector<double> seconds;
  for (unsigned call = 0; call < repeat; ++call) {
    auto start = std::chrono::steady_clock::now();
    Expected<hope::TensorMap> outputs = lift(session->invoke(*name, *given));
    if (!outputs)
      return outputs.takeError();
    seconds.push_back(std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count());
    produced = std::move(*outputs);
  }
  // The count the calls used: the session set it on this thread (else it
  // is OpenMP's default); 1 for an artifact without parallel loops.
  std::optional<json::Object> deviceReport;
  if (profile && onDevice)
    deviceReport = reportProfile(*name, *module, *session);
  else if (profile)
    errs() << "hope-run: --profile: " << *name
           << " runs on the host: no kernels to time\n";
  if (Error error = reportTimings(*name, module->threads(), seconds,
                                  std::move(deviceReport)))
    return error;

  for (size_t j = 0; j < results.size(); ++j) {
    StringRef target = outputs.empty() ? "-" : StringRef(outputs[j]);
    Expected<hope::Tensor> tensor = lift(produced->find(results[j]->name));
    if (!tensor)
      return tensor.takeError();
    if (target == "-") {
      if (Error error = print(results[j]->name, *tensor))
        return error;
    } else if (!target.empty()) {
      if (Error error = lift(hope::writeNpy(target.drop_front(), *tensor)))
        return error;
    }
  }
  if (stateOut.empty())
    return Error::success();
  Expected<hope::TensorMap> states = lift(hope::TensorMap::create());
  if (!states)
    return states.takeError();
  for (const hope_param &param : signature->outputs) {
    if (param.role != HOPE_ROLE_STATE)
      continue;
    Expected<hope::Tensor> tensor = lift(produced->find(param.name));
    if (!tensor)
      return tensor.takeError();
    if (Error error = lift(states->set(param.name, *tensor)))
      return error;
  }
  return lift(hope::writeSafetensors(stateOut.getValue(), *states));
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "hope-run: runs an entry point of a compiled HOPE artifact\n\n"
      "  hope-run --module=model.so --list\n"
      "  hope-run --module=model.so --function=forward "
      "--weights=w.safetensors \\\n"
      "      --input=1x128x64xf32=@x.npy --output=@y.npy \\\n"
      "      --state-in=s.safetensors --state-out=s2.safetensors\n"
      "  hope-run --module=model-cuda.so --device=cuda --profile "
      "--repeat=10 ...\n");
  if (modulePath.empty()) {
    WithColor::error(errs(), "hope-run") << "--module is required\n";
    return 1;
  }
  if (Error error = run()) {
    // One line: the runtime's messages already name the file, entry point
    // and tensor at fault. Names come from files: control characters in
    // them are escaped as in --list, not sent to the terminal.
    std::string message;
    for (char c : toString(std::move(error))) {
      if (c == '\n')
        message += ' ';
      else if (uint8_t(c) < 0x20 || c == 0x7f)
        message += "\\" + utohexstr(uint8_t(c), /*LowerCase=*/false, 2);
      else
        message += c;
    }
    WithColor::error(errs(), "hope-run") << message << "\n";
    return 1;
  }
  return 0;
}
