//===- hope-train.cpp - train a compiled HOPE model on a task -------------===//
//
// Compiles a module with `hope-compile --train` (or takes an artifact
// compiled so), seeds or loads its parameters, and runs train_step on the
// batches of a task, with evaluations on a held-out stream, curves,
// checkpoints and --resume. The loop and everything it uses live in the
// HopeTrain library beside this file; this file holds the options.
// Every failure is one line on stderr and exit 1.
//
//===----------------------------------------------------------------------===//

#include "ArtifactSession.h"
#include "CompileCache.h"
#include "InitialWeights.h"
#include "Trainer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace llvm;
using namespace hope::train;

static cl::OptionCategory category("hope-train options");

static cl::opt<std::string>
    modulePath("module",
               cl::desc("The model's nl IR (.mlir), compiled here with "
                        "hope-compile --train and the optimizer options; the "
                        "artifact is cached in --checkpoint-dir"),
               cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string> artifactPath(
    "artifact",
    cl::desc("An artifact already compiled with hope-compile --train (its "
             "optimizer options are fixed; do not pass them)"),
    cl::value_desc("file"), cl::cat(category));

static cl::opt<std::string>
    taskSpec("task",
             cl::desc("mqar (multi-query associative recall), needle "
                      "(passkey), copy, or text:FILE (byte-level language "
                      "modelling; the last 10% of FILE is held out)"),
             cl::init("mqar"), cl::value_desc("task"), cl::cat(category));
static cl::opt<int64_t> vocabulary("vocab",
                                   cl::desc("The synthetic tasks' vocabulary "
                                            "(text: 256)"),
                                   cl::init(64), cl::cat(category));
static cl::opt<int64_t> pairs("pairs", cl::desc("mqar: key-value pairs"),
                              cl::init(8), cl::cat(category));
static cl::opt<double>
    depth("depth",
          cl::desc("needle: where the passkey is, as a fraction of the "
                   "sequence (0: the start, 1: just before the question)"),
          cl::init(0.5), cl::cat(category));
static cl::opt<int64_t> seqLen("seq-len", cl::desc("Tokens per sequence"),
                               cl::init(64), cl::cat(category));
static cl::opt<int64_t> batch("batch", cl::desc("Sequences per step"),
                              cl::init(8), cl::cat(category));

static cl::opt<std::string>
    optimizer("optimizer", cl::desc("sgd, adamw, muon or m3 (--module only)"),
              cl::init("adamw"), cl::cat(category));
static cl::opt<double> lr("lr", cl::desc("The base learning rate"),
                          cl::init(1e-3), cl::cat(category));
static cl::opt<double>
    weightDecay("weight-decay", cl::desc("Decoupled weight decay (--module only)"),
                cl::init(0.01), cl::cat(category));
static cl::opt<int64_t>
    warmup("warmup", cl::desc("Linear warm-up steps (--module only)"),
           cl::init(0), cl::cat(category));
static cl::opt<double>
    clip("clip",
         cl::desc("Clip the gradients' global norm to this (0: off; "
                  "--module only)"),
         cl::init(1.0), cl::cat(category));
static cl::opt<bool>
    cosine("cosine",
           cl::desc("Cosine decay of the learning rate to 0.1 x --lr at "
                    "--steps (--module only; default: constant after "
                    "warm-up)"),
           cl::cat(category));
static cl::opt<int64_t> steps("steps", cl::desc("Training steps"),
                              cl::init(100), cl::cat(category));
static cl::opt<int64_t>
    evalEvery("eval-every",
              cl::desc("Evaluate on the held-out set every N steps (0: only "
                       "after the last)"),
              cl::init(50), cl::cat(category));
static cl::opt<int64_t>
    evalBatches("eval-batches",
                cl::desc("Held-out batches (of --batch sequences) per "
                         "evaluation"),
                cl::init(4), cl::cat(category));
static cl::opt<uint64_t>
    seed("seed", cl::desc("Seeds the data and the initial parameters"),
         cl::init(0), cl::cat(category));
// --num-threads, as hope-run's: LLVM's shared library, which this tool
// links, already registers an option "threads".
static cl::opt<int64_t>
    threads("num-threads",
            cl::desc("Threads for the artifact's parallel loops, 1 to 1024 "
                     "(0: OMP_NUM_THREADS, else one per core)"),
            cl::init(0), cl::cat(category));
static cl::opt<std::string>
    initPath("init",
             cl::desc("Initial parameters (safetensors; default: seeded from "
                      "their names, shapes and the manifest's init and init_scale, "
                      "as hope-models --weights-out)"),
             cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string> checkpointDir(
    "checkpoint-dir",
    cl::desc("Where the checkpoint (checkpoint.safetensors), the curves and "
             "the compiled artifact go"),
    cl::value_desc("dir"), cl::cat(category));
static cl::opt<int64_t>
    checkpointEvery("checkpoint-every",
                    cl::desc("Save every N steps (0: at every evaluation); "
                             "always after the last"),
                    cl::init(0), cl::cat(category));
static cl::opt<bool> resume("resume",
                            cl::desc("Continue from --checkpoint-dir's "
                                     "checkpoint (bit-identical at the same "
                                     "--num-threads)"),
                            cl::cat(category));
static cl::opt<std::string>
    exportPath("export",
               cl::desc("Write the trained parameters here (safetensors, "
                        "for hope-run --weights)"),
               cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string>
    curvesPrefix("curves",
                 cl::desc("Write the curves to PREFIX.csv and PREFIX.svg "
                          "(default: <checkpoint-dir>/curves)"),
                 cl::value_desc("prefix"), cl::cat(category));

/// The options that decide the batches: a checkpoint resumes only with the
/// same.
static json::Object dataOptions(int64_t taskVocabulary) {
  return json::Object{{"task", taskSpec.getValue()},
                      {"vocab", taskVocabulary},
                      {"pairs", pairs.getValue()},
                      {"depth", depth.getValue()},
                      {"seq-len", seqLen.getValue()},
                      {"batch", batch.getValue()},
                      {"seed", int64_t(seed.getValue())}};
}

static Error checkOptions() {
  if (modulePath.empty() == artifactPath.empty())
    return createStringError("pass exactly one of --module=model.mlir and "
                             "--artifact=model.so");
  if (!artifactPath.empty())
    for (cl::Option *option : std::initializer_list<cl::Option *>{
             &optimizer, &weightDecay, &warmup, &clip, &cosine})
      if (option->getNumOccurrences())
        return createStringError(
            "--" + option->ArgStr +
            " is fixed when the artifact is compiled: drop it, or pass "
            "--module to compile with it");
  if (threads < 0 || threads > HOPE_MAX_THREADS)
    return createStringError("--num-threads=" + Twine(threads) +
                             " is out of range (0, or 1 to 1024)");
  if (steps < 0 || batch < 1 || evalEvery < 0 || evalBatches < 1 ||
      checkpointEvery < 0 || warmup < 0)
    return createStringError("--steps, --eval-every, --checkpoint-every and "
                             "--warmup must not be negative; --batch and "
                             "--eval-batches must be at least 1");
  if (resume && checkpointDir.empty())
    return createStringError("--resume needs --checkpoint-dir");
  return Error::success();
}

static std::string getCompilerPath(const char *argv0) {
  std::string self = sys::fs::getMainExecutable(
      argv0, reinterpret_cast<void *>(&getCompilerPath));
  SmallString<256> compiler(sys::path::parent_path(self));
  sys::path::append(compiler, "hope-compile");
  return std::string(compiler);
}

static Error run(const char *argv0) {
  if (Error error = checkOptions())
    return error;
  TaskOptions taskOptions;
  taskOptions.spec = taskSpec;
  taskOptions.vocabulary = vocabulary;
  taskOptions.pairs = pairs;
  taskOptions.length = seqLen;
  taskOptions.depth = depth;
  taskOptions.seed = seed;
  Expected<std::unique_ptr<Task>> task = createTask(taskOptions);
  if (!task)
    return task.takeError();
  if (!checkpointDir.empty())
    if (std::error_code error = sys::fs::create_directories(checkpointDir))
      return createStringError("--checkpoint-dir=" + checkpointDir + ": " +
                               error.message());

  std::string artifact = artifactPath;
  if (!modulePath.empty()) {
    CompileOptions compile;
    compile.optimizer = optimizer;
    compile.weightDecay = weightDecay;
    compile.clip = clip;
    compile.warmup = warmup;
    compile.totalSteps = cosine ? steps : 0;
    SmallString<256> cache(checkpointDir);
    if (cache.empty()) {
      sys::path::system_temp_directory(/*ErasedOnReboot=*/true, cache);
      sys::path::append(cache, "hope-train-cache");
    }
    Expected<std::string> compiled = compileForTraining(
        getCompilerPath(argv0), modulePath, compile, cache, errs());
    if (!compiled)
      return compiled.takeError();
    artifact = *compiled;
  }
  Expected<std::unique_ptr<TrainingSession>> session =
      openArtifactSession(artifact, int32_t(threads));
  if (!session)
    return session.takeError();
  Error init = initPath.empty()
                   ? seedWeights((*session)->weights(), seed)
                   : loadInitialWeights((*session)->weights(), initPath);
  if (init)
    return init;

  TrainerOptions options;
  options.steps = steps;
  options.batch = batch;
  options.lr = float(lr);
  options.evalEvery = evalEvery;
  options.evalBatches = evalBatches;
  options.checkpointEvery = checkpointEvery;
  options.resume = resume;
  options.seed = seed;
  SmallString<256> path(checkpointDir);
  if (!checkpointDir.empty()) {
    sys::path::append(path, kCheckpointFileName);
    options.checkpointPath = std::string(path);
  }
  if (!curvesPrefix.empty()) {
    options.curvesPrefix = curvesPrefix;
  } else if (!checkpointDir.empty()) {
    SmallString<256> prefix(checkpointDir);
    sys::path::append(prefix, "curves");
    options.curvesPrefix = std::string(prefix);
  }
  options.title = "hope-train: " + taskSpec + " on " +
                  sys::path::filename(modulePath.empty() ? artifactPath
                                                         : modulePath)
                      .str();
  json::Object data = dataOptions((*task)->vocabulary());
  options.dataOptions = formatv("{0}", json::Value(json::Object(data))).str();
  json::Object all{{"data", std::move(data)},
                   {"artifact", artifact},
                   {"lr", lr.getValue()},
                   {"steps", steps.getValue()},
                   {"num-threads", threads.getValue()},
                   {"eval-every", evalEvery.getValue()},
                   {"eval-batches", evalBatches.getValue()}};
  if (!modulePath.empty())
    all["compile"] = json::Object{{"optimizer", optimizer.getValue()},
                                  {"weight-decay", weightDecay.getValue()},
                                  {"clip", clip.getValue()},
                                  {"warmup", warmup.getValue()},
                                  {"cosine", cosine.getValue()}};
  std::string compiled = (*session)->describeTraining();
  if (!compiled.empty()) {
    if (Expected<json::Value> train = json::parse(compiled))
      all["train_step"] = std::move(*train);
    else
      consumeError(train.takeError());
  }
  options.options = formatv("{0}", json::Value(std::move(all))).str();

  ProgressBar progress(errs(), errs().is_displayed());
  Expected<CheckpointState> state =
      runTraining(**session, **task, options, progress);
  if (!state)
    return state.takeError();
  if (!exportPath.empty())
    return exportParameters((*session)->weights(), exportPath, state->step);
  return Error::success();
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "hope-train: trains a HOPE model on a task\n\n"
      "  hope-train --module=lm.mlir --task=mqar --vocab=64 --pairs=8 "
      "--seq-len=64 \\\n"
      "      --steps=2000 --lr=3e-3 --checkpoint-dir=run "
      "--export=trained.safetensors\n"
      "  hope-train --artifact=lm-train.so --task=text:book.txt "
      "--checkpoint-dir=run --resume\n");
  if (Error error = run(argv[0])) {
    // One line: messages name the file, step and tensor at fault.
    std::string message = toString(std::move(error));
    std::replace(message.begin(), message.end(), '\n', ' ');
    WithColor::error(errs(), "hope-train") << message << "\n";
    return 1;
  }
  return 0;
}
