//===- hope-inspect.cpp - what each kernel of an artifact costs -----------===//
//
// Reads a compiled artifact's manifest from the file (the runtime's ELF and
// manifest readers: no dlopen, no CUDA) and prints, per entry point and
// kernel: grid and block, registers, spills, shared memory and barriers
// (ptxas, per chip), FLOPs and bytes moved (the compiler's formulas of the
// dynamic sizes, evaluated at --dims) and a time bound on a chip's card
// from its documented peaks (docs/gpu-peaks.md): max(FLOPs / peak FP32
// FLOP/s, bytes / peak DRAM bandwidth). A kernel may be launched several
// times per call (the layers of a model share their kernels); its row shows
// one launch, the totals count every launch. A table, or JSON with --json.
//
//===----------------------------------------------------------------------===//

#include "ArtifactFile.h"
#include "Formulas.h"
#include "GpuPeaks.h"
#include "Manifest.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <set>

using namespace llvm;
using namespace hope::inspect;

static cl::OptionCategory category("hope-inspect options");

static cl::opt<std::string> artifactPath(cl::Positional, cl::Required,
                                         cl::desc("<artifact.so>"),
                                         cl::cat(category));
static cl::list<std::string>
    dims("dims",
         cl::desc("Values of the entry points' dynamic sizes, e.g. "
                  "--dims=x[0]=8,x[1]=4096 (the names of hope-run --list)"),
         cl::value_desc("NAME=N,..."), cl::CommaSeparated, cl::cat(category));
static cl::opt<std::string>
    chipOption("chip",
               cl::desc("The chip whose ptxas figures and card are used "
                        "(default: the artifact's last chip)"),
               cl::value_desc("sm_NN"), cl::cat(category));
static cl::opt<std::string>
    cardOption("card",
               cl::desc("The card whose peaks bound the time (default: the "
                        "chip's, docs/gpu-peaks.md; --list-cards)"),
               cl::value_desc("name"), cl::cat(category));
static cl::opt<bool> asJson("json", cl::desc("Print JSON instead of a table"),
                            cl::cat(category));
static cl::opt<bool> showFormulas(
    "formulas", cl::desc("Also print each kernel's formulas (table only)"),
    cl::cat(category));
static cl::opt<bool> listCards("list-cards",
                               cl::desc("Print the cards and their peaks"),
                               cl::cat(category));

namespace {

/// One kernel's facts at the given sizes.
struct KernelRow {
  std::string name;
  std::string entryPoint;
  const json::Object *facts = nullptr;
  bool hasCosts = false;
  double grid[3] = {0, 0, 0};
  uint32_t block[3] = {1, 1, 1};
  double flops = 0, bytesRead = 0, bytesWritten = 0;
  /// ptxas' figures for the chip, if recorded.
  const json::Object *resources = nullptr;
  double seconds = 0;
  bool memoryBound = false;
  /// Launch sites in the entry point's host code, each run once per call
  /// (the manifest's `launches`; 1 when absent).
  int64_t launches = 1;

  double blocks() const { return grid[0] * grid[1] * grid[2]; }
  double bytes() const { return bytesRead + bytesWritten; }
};

[[noreturn]] void fail(const Twine &message) {
  errs() << "hope-inspect: " << message << "\n";
  exit(1);
}

/// "1.23 G", for counts in a table.
std::string human(double value) {
  const char *units[] = {"", "K", "M", "G", "T", "P"};
  int unit = 0;
  while (std::abs(value) >= 1000 && unit < 5) {
    value /= 1000;
    ++unit;
  }
  if (unit == 0)
    return formatv("{0}", static_cast<int64_t>(value)).str();
  return formatv("{0:f2}{1}", value, units[unit]).str();
}

std::string microseconds(double seconds) {
  return formatv("{0:f2}", seconds * 1e6).str();
}

int64_t resource(const KernelRow &row, StringRef key) {
  if (!row.resources)
    return -1;
  return row.resources->getInteger(key).value_or(-1);
}

std::string resourceText(const KernelRow &row, StringRef key) {
  int64_t value = resource(row, key);
  return value < 0 ? "-" : std::to_string(value);
}

void printCards(raw_ostream &os) {
  os << formatv("{0,-15} {1,-24} {2,-6} {3,12} {4,10} {5,4} {6,14} {7,13}\n",
                "card", "product", "chip", "FP32 TFLOP/s", "DRAM TB/s", "SMs",
                "smem KiB/block", "default chip");
  for (const GpuCard &card : getGpuCards())
    os << formatv("{0,-15} {1,-24} {2,-6} {3,12:f1} {4,10:f3} {5,4} {6,14} "
                  "{7,13}\n",
                  card.name, card.product, card.chip,
                  card.fp32FlopsPerSecond / 1e12,
                  card.dramBytesPerSecond / 1e12, card.sms,
                  card.sharedKiBPerBlock, card.chipDefault ? "yes" : "");
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "hope-inspect: what each kernel of a compiled artifact costs\n");
  if (listCards) {
    printCards(outs());
    return 0;
  }

  // The artifact, read and validated as the runtime reads it.
  hope::Expected<hope::rt::ArtifactFile> file =
      hope::rt::readArtifactFile(artifactPath);
  if (!file)
    fail(file.takeError().message());
  hope::Expected<std::unique_ptr<hope::rt::Manifest>> parsed =
      hope::rt::parseManifest(file->manifest);
  if (!parsed)
    fail(artifactPath + ": " + parsed.takeError().message());
  const hope::rt::Manifest &manifest = **parsed;
  Expected<json::Value> text = json::parse(file->manifest);
  if (!text)
    fail(artifactPath + ": " + toString(text.takeError()));
  const json::Object &root = *text->getAsObject();

  // The dynamic sizes the entry points name, in order.
  std::vector<std::string> sizeNames;
  for (const hope::rt::EntryPoint &entry : manifest.entryPoints)
    for (const auto *list : {&entry.inputs, &entry.outputs})
      for (const hope::rt::TensorSpec &tensor : *list)
        for (const char *name : tensor.dimNames)
          if (name && !is_contained(sizeNames, name))
            sizeNames.push_back(name);
  StringMap<double> sizes;
  for (const std::string &item : dims) {
    auto [name, value] = StringRef(item).rsplit('=');
    int64_t number = 0;
    if (value.empty() || value.getAsInteger(10, number) || number < 0)
      fail("--dims: '" + item + "' is not NAME=N with N a size");
    if (!is_contained(sizeNames, name))
      fail("--dims: '" + name + "' is not a dynamic size of " + artifactPath +
           " (its sizes: " +
           (sizeNames.empty() ? "none" : join(sizeNames, ", ")) + ")");
    sizes[name] = static_cast<double>(number);
  }

  // What applies to every artifact: its entry points.
  raw_ostream &os = outs();
  bool cuda = manifest.isCuda();
  if (!asJson) {
    os << artifactPath << ": model " << manifest.model << ", target "
       << manifest.kind;
    if (!manifest.chips.empty())
      os << " (" << join(manifest.chips, ", ") << ")";
    os << "\n";
    for (const hope::rt::EntryPoint &entry : manifest.entryPoints) {
      os << "entry point " << entry.name << "(";
      ListSeparator comma;
      for (const hope::rt::TensorSpec &input : entry.inputs)
        os << comma << input.name << ": " << input.formatShape();
      os << ")\n";
    }
  }
  if (!cuda) {
    if (asJson) {
      json::Array entries;
      for (const hope::rt::EntryPoint &entry : manifest.entryPoints)
        entries.push_back(json::Object{{"name", std::string(entry.name)}});
      os << formatv("{0:2}\n",
                    json::Value(json::Object{{"artifact", artifactPath.getValue()},
                                             {"target", std::string(manifest.kind)},
                                             {"entry_points",
                                              std::move(entries)},
                                             {"kernels", json::Array()}}));
    }
    fail(artifactPath + ": a '" + manifest.kind +
         "' artifact has no GPU kernels (compile it with --target=cuda)");
  }

  // The chip and card.
  std::string chip = chipOption;
  if (chip.empty() && !manifest.chips.empty())
    chip = std::string(manifest.chips.back());
  const GpuCard *card = nullptr;
  if (!cardOption.empty()) {
    card = findCard(cardOption);
    if (!card) {
      std::vector<std::string> names;
      for (const GpuCard &known : getGpuCards())
        names.push_back(known.name.str());
      fail("--card: unknown card '" + cardOption + "' (known: " +
           join(names, ", ") + ")");
    }
    if (chip.empty() || chipOption.empty())
      chip = card->chip.str();
    else if (card->chip != chip)
      fail("--card " + cardOption + " is a " + card->chip + " card, not " +
           chip);
  } else {
    if (chip.empty())
      fail(artifactPath + ": target '" + manifest.kind +
           "' names no chip: give --chip (e.g. --chip=sm_90)");
    card = defaultCard(chip);
    if (!card) {
      std::set<std::string> chips;
      for (const GpuCard &known : getGpuCards())
        chips.insert(known.chip.str());
      fail("--chip: no card is known for '" + chip + "' (chips with "
           "documented peaks: " +
           join(chips, ", ") + "; docs/gpu-peaks.md)");
    }
  }
  if (!manifest.chips.empty() && !is_contained(manifest.chips, chip))
    fail(artifactPath + " was compiled for " + join(manifest.chips, ", ") +
         ", not " + chip + " (ptxas figures are per chip)");

  // Every kernel's facts at the sizes.
  const json::Array *kernels = root.getArray("kernels");
  std::vector<KernelRow> rows;
  std::set<std::string> needed;
  for (size_t i = 0; kernels && i < kernels->size(); ++i) {
    const json::Object *facts = (*kernels)[i].getAsObject();
    KernelRow row;
    row.name = std::string(manifest.kernels[i].name);
    row.facts = facts;
    for (int d = 0; d < 3; ++d)
      row.block[d] = manifest.kernels[i].block[d];
    row.entryPoint = facts->getString("entry_point").value_or("").str();
    row.hasCosts = facts->get("flops") && facts->get("grid");
    row.launches = facts->getInteger("launches").value_or(1);
    if (const json::Object *resources = facts->getObject("resources"))
      row.resources = resources->getObject(chip);
    for (StringRef key : {"grid", "flops", "bytes_read", "bytes_written"})
      if (const json::Value *formula = facts->get(key))
        collectSizes(*formula, needed);
    rows.push_back(row);
  }
  std::vector<std::string> missing;
  for (const std::string &name : needed)
    if (!sizes.count(name))
      missing.push_back(name);
  if (!missing.empty())
    fail("missing --dims value for " + join(missing, ", ") +
         " (the artifact's dynamic sizes: " + join(sizeNames, ", ") +
         "), e.g. --dims=" + missing.front() + "=8");

  auto value = [&](const json::Value *formula, StringRef what,
                   const KernelRow &row) -> double {
    if (!formula)
      return 0;
    Expected<double> result = evaluate(*formula, sizes);
    if (!result)
      fail(artifactPath + ": kernel " + row.name + ": " + what + ": " +
           toString(result.takeError()));
    return *result;
  };
  for (KernelRow &row : rows) {
    if (!row.hasCosts)
      continue;
    const json::Array *grid = row.facts->getArray("grid");
    for (size_t d = 0; grid && d < 3 && d < grid->size(); ++d)
      row.grid[d] = value(&(*grid)[d], "grid", row);
    row.flops = value(row.facts->get("flops"), "flops", row);
    row.bytesRead = value(row.facts->get("bytes_read"), "bytes_read", row);
    row.bytesWritten =
        value(row.facts->get("bytes_written"), "bytes_written", row);
    double compute = row.flops / card->fp32FlopsPerSecond;
    double memory = row.bytes() / card->dramBytesPerSecond;
    row.seconds = std::max(compute, memory);
    row.memoryBound = memory >= compute;
  }

  // Entry points in the manifest's order, then kernels without costs.
  std::vector<std::string> groups;
  for (const hope::rt::EntryPoint &entry : manifest.entryPoints)
    groups.push_back(std::string(entry.name));
  bool orphans = any_of(rows, [&](const KernelRow &row) {
    return !is_contained(groups, row.entryPoint);
  });

  if (asJson) {
    json::Object sizeObject;
    for (const auto &entry : sizes)
      sizeObject[entry.getKey()] = entry.getValue();
    auto kernelJson = [&](const KernelRow &row) {
      json::Object object{{"name", row.name},
                          {"launches_per_call", row.launches},
                          {"block", json::Array{row.block[0], row.block[1],
                                                row.block[2]}}};
      if (row.resources)
        for (StringRef key : {"registers", "spill_stores", "spill_loads",
                              "shared_bytes", "barriers", "stack_bytes"})
          object[key] = resource(row, key);
      if (row.hasCosts) {
        object["grid"] = json::Array{row.grid[0], row.grid[1], row.grid[2]};
        object["flops"] = row.flops;
        object["bytes_read"] = row.bytesRead;
        object["bytes_written"] = row.bytesWritten;
        object["bytes"] = row.bytes();
        object["time_bound_us"] = row.seconds * 1e6;
        object["bound_by"] = row.memoryBound ? "memory" : "compute";
        json::Object formulas;
        for (StringRef key : {"grid", "flops", "bytes_read", "bytes_written"})
          if (const json::Value *formula = row.facts->get(key))
            formulas[key] = *formula;
        object["formulas"] = std::move(formulas);
      }
      return object;
    };
    json::Array entryArray;
    for (const std::string &group : groups) {
      json::Array kernelArray;
      double flops = 0, bytes = 0, seconds = 0;
      int64_t launches = 0;
      for (const KernelRow &row : rows)
        if (row.entryPoint == group) {
          kernelArray.push_back(kernelJson(row));
          flops += row.launches * row.flops;
          bytes += row.launches * row.bytes();
          seconds += row.launches * row.seconds;
          launches += row.launches;
        }
      entryArray.push_back(json::Object{
          {"name", group},
          {"launches_per_call", launches},
          {"kernel_count", static_cast<int64_t>(kernelArray.size())},
          {"kernels", std::move(kernelArray)},
          {"total", json::Object{{"flops", flops},
                                 {"bytes", bytes},
                                 {"time_bound_us", seconds * 1e6}}}});
    }
    json::Array others;
    for (const KernelRow &row : rows)
      if (!is_contained(groups, row.entryPoint))
        others.push_back(kernelJson(row));
    json::Object out{
        {"artifact", artifactPath.getValue()},
        {"model", std::string(manifest.model)},
        {"target", std::string(manifest.kind)},
        {"chip", chip},
        {"card",
         json::Object{{"name", card->name},
                      {"product", card->product},
                      {"fp32_flops_per_second", card->fp32FlopsPerSecond},
                      {"dram_bytes_per_second", card->dramBytesPerSecond},
                      {"sms", card->sms}}},
        {"sizes", std::move(sizeObject)},
        {"entry_points", std::move(entryArray)}};
    if (orphans)
      out["kernels_without_entry_point"] = std::move(others);
    os << formatv("{0:2}\n", json::Value(std::move(out)));
    return 0;
  }

  os << "chip " << chip << ", peaks of the " << card->product << ": "
     << formatv("{0:f1}", card->fp32FlopsPerSecond / 1e12)
     << " TFLOP/s FP32, "
     << formatv("{0:f2}", card->dramBytesPerSecond / 1e12) << " TB/s DRAM, "
     << card->sms << " SMs (docs/gpu-peaks.md)\n";
  if (!sizes.empty()) {
    os << "sizes";
    for (const std::string &name : sizeNames)
      if (sizes.count(name))
        os << " " << name << "=" << static_cast<int64_t>(sizes[name]);
    os << "\n";
  }
  auto header = [&] {
    os << formatv("  {0,-16} {1,8} {2,-16} {3,-6} {4,4} {5,11} {6,7} {7,3} "
                  "{8,9} {9,9} {10,9} {11,10} {12}\n",
                  "kernel", "launches", "grid", "block", "regs", "spill st/ld",
                  "smem", "bar", "FLOPs", "read B", "written B", "bound us",
                  "by");
  };
  auto line = [&](const KernelRow &row) {
    std::string grid =
        row.hasCosts ? formatv("{0}x{1}x{2}", static_cast<int64_t>(row.grid[0]),
                               static_cast<int64_t>(row.grid[1]),
                               static_cast<int64_t>(row.grid[2]))
                           .str()
                     : "-";
    std::string spills = row.resources
                             ? resourceText(row, "spill_stores") + "/" +
                                   resourceText(row, "spill_loads")
                             : "-";
    os << formatv("  {0,-16} {1,8} {2,-16} {3,-6} {4,4} {5,11} {6,7} {7,3} "
                  "{8,9} {9,9} {10,9} {11,10} {12}\n",
                  row.name, row.launches, grid, row.block[0],
                  resourceText(row, "registers"),
                  spills, resourceText(row, "shared_bytes"),
                  resourceText(row, "barriers"),
                  row.hasCosts ? human(row.flops) : "-",
                  row.hasCosts ? human(row.bytesRead) : "-",
                  row.hasCosts ? human(row.bytesWritten) : "-",
                  row.hasCosts ? microseconds(row.seconds) : "-",
                  row.hasCosts ? (row.memoryBound ? "memory" : "compute")
                               : "");
    if (showFormulas && row.hasCosts) {
      const json::Array *grid = row.facts->getArray("grid");
      os << "      grid  = [";
      for (size_t d = 0; grid && d < grid->size(); ++d)
        os << (d ? ", " : "") << print((*grid)[d]);
      os << "]\n";
      for (StringRef key : {"flops", "bytes_read", "bytes_written"})
        os << formatv("      {0,-5} = {1}\n",
                      key == "flops" ? "flops" : key == "bytes_read" ? "read"
                                                                     : "wrote",
                      print(*row.facts->get(key)));
    }
  };
  for (const std::string &group : groups) {
    int64_t launches = 0, kernelCount = 0;
    double flops = 0, read = 0, written = 0, seconds = 0;
    for (const KernelRow &row : rows)
      if (row.entryPoint == group) {
        ++kernelCount;
        launches += row.launches;
        flops += row.launches * row.flops;
        read += row.launches * row.bytesRead;
        written += row.launches * row.bytesWritten;
        seconds += row.launches * row.seconds;
      }
    os << "\nentry point " << group << ": " << launches
       << " launches per call of " << kernelCount
       << " kernels (each row: one launch)\n";
    header();
    for (const KernelRow &row : rows)
      if (row.entryPoint == group)
        line(row);
    os << formatv("  {0,-78} {1,9} {2,9} {3,9} {4,10}\n",
                  "total (" + std::to_string(launches) + " launches)",
                  human(flops), human(read), human(written),
                  microseconds(seconds));
  }
  if (orphans) {
    os << "\nkernels without costs (no entry point recorded)\n";
    header();
    for (const KernelRow &row : rows)
      if (!is_contained(groups, row.entryPoint))
        line(row);
  }
  return 0;
}
