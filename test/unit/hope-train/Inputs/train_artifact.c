/*===- train_artifact.c - a hand-written artifact with train_step ---------===*\
|*                                                                            *|
|* TEST CODE ONLY: stands in for `hope-compile --train` output (the           *|
|* train_step ABI, docs/training.md) so that hope-train's C-API path runs    *|
|* end to end before the compiler emits train_step. The model is a bigram    *|
|* table: logits[b, t, v] = table[v, tokens[b, t]]; train_step is SGD with   *|
|* momentum 0.9 on the mean cross-entropy over the non-negative targets,     *|
|* updating "table" and "table.sgd_momentum" in place.                       *|
|* TRAIN_VARIANT: 0 good (vocabulary 16), 1 poisoned (writes a NaN into the  *|
|* table at step 3), 2 another model (vocabulary 12), 3 the inference         *|
|* artifact of the good one (no train_step: what --export's file is for),    *|
|* 4 the good one whose table starts as a token shift times 2 (the         *|
|* manifest's init, init_scale), 5 one with an unknown init.               *|
|* TRAIN_TRIPLE (from CMake) is the host's triple.                           *|
\*===----------------------------------------------------------------------===*/

#include "hope/artifact.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#ifndef TRAIN_VARIANT
#define TRAIN_VARIANT 0
#endif

#if TRAIN_VARIANT == 2
#define VOCAB 12
#define VOCAB_TEXT "12"
#else
#define VOCAB 16
#define VOCAB_TEXT "16"
#endif

/* The table's initialisation in the manifest (docs/artifact-abi.md). */
#if TRAIN_VARIANT == 4
#define TABLE_INIT ", \"init\": \"token_shift\", \"init_scale\": 2"
#elif TRAIN_VARIANT == 5
#define TABLE_INIT ", \"init\": \"spiral\""
#else
#define TABLE_INIT ""
#endif

/* clang-format off */
#if TRAIN_VARIANT == 3
#define TRAIN_STEP_MANIFEST ""
#else
#define TRAIN_STEP_MANIFEST ",\n" \
"  {\"name\": \"train_step\", \"train\": {\"optimizer\": \"sgd\"},\n" \
"   \"inputs\": [\n" \
"    {\"name\": \"tokens\", \"role\": \"input\", \"dtype\": \"i64\", \"shape\": [\"B\", \"T\"]},\n" \
"    {\"name\": \"targets\", \"role\": \"input\", \"dtype\": \"i64\", \"shape\": [\"B\", \"T\"]},\n" \
"    {\"name\": \"learning_rate\", \"role\": \"input\", \"dtype\": \"f32\", \"shape\": []},\n" \
"    {\"name\": \"step\", \"role\": \"input\", \"dtype\": \"i64\", \"shape\": []},\n" \
"    {\"name\": \"table\", \"role\": \"weight\", \"dtype\": \"f32\", \"shape\": [" VOCAB_TEXT ", " VOCAB_TEXT "], \"updated\": true" TABLE_INIT "},\n" \
"    {\"name\": \"table.sgd_momentum\", \"role\": \"weight\", \"dtype\": \"f32\", \"shape\": [" VOCAB_TEXT ", " VOCAB_TEXT "], \"updated\": true}],\n" \
"   \"outputs\": [\n" \
"    {\"name\": \"loss\", \"role\": \"output\", \"dtype\": \"f32\", \"shape\": []},\n" \
"    {\"name\": \"grad_norm\", \"role\": \"output\", \"dtype\": \"f32\", \"shape\": []}]}"
#endif
const char hope_manifest[] =
"{\"format\": \"hope-artifact\", \"version\": 4, \"services\": 1, \"model\": \"bigram\",\n"
" \"target\": {\"kind\": \"cpu\", \"triple\": \"" TRAIN_TRIPLE "\", \"cpu\": \"generic\", \"features\": []},\n"
" \"entry_points\": [\n"
"  {\"name\": \"bigram\",\n"
"   \"inputs\": [\n"
"    {\"name\": \"tokens\", \"role\": \"input\", \"dtype\": \"i64\", \"shape\": [\"B\", \"T\"]},\n"
"    {\"name\": \"table\", \"role\": \"weight\", \"dtype\": \"f32\", \"shape\": [" VOCAB_TEXT ", " VOCAB_TEXT "]" TABLE_INIT "}],\n"
"   \"outputs\": [\n"
"    {\"name\": \"logits\", \"role\": \"output\", \"dtype\": \"f32\", \"shape\": [\"B\", \"T\", " VOCAB_TEXT "]}]}" TRAIN_STEP_MANIFEST "]}\n";
/* clang-format on */


/* MLIR's ranked memref descriptors. */
typedef struct {
  int64_t *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} MemRef2I;
typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} MemRef2F;
typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[3], strides[3];
} MemRef3F;
typedef struct {
  float *allocated, *aligned;
  int64_t offset;
} MemRef0F;
typedef struct {
  int64_t *allocated, *aligned;
  int64_t offset;
} MemRef0I;

static int64_t at2(const MemRef2I *m, int64_t i, int64_t j) {
  return m->aligned[m->offset + i * m->strides[0] + j * m->strides[1]];
}
static float *cell(const MemRef2F *m, int64_t i, int64_t j) {
  return &m->aligned[m->offset + i * m->strides[0] + j * m->strides[1]];
}

static float *scalar(const hope_services *services, MemRef0F *out, float value) {
  out->allocated = out->aligned = services->alloc(services->context, 64, 64);
  out->offset = 0;
  out->aligned[0] = value;
  return out->aligned;
}

int32_t hope_entry_bigram(void **args, const hope_services *services) {
  const MemRef2I *tokens = args[0];
  const MemRef2F *table = args[1];
  MemRef3F *logits = args[2];
  int64_t B = tokens->sizes[0], T = tokens->sizes[1];
  logits->allocated = logits->aligned =
      services->alloc(services->context, sizeof(float) * (B * T * VOCAB + 1), 64);
  logits->offset = 0;
  logits->sizes[0] = B, logits->sizes[1] = T, logits->sizes[2] = VOCAB;
  logits->strides[0] = T * VOCAB, logits->strides[1] = VOCAB,
  logits->strides[2] = 1;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t v = 0; v < VOCAB; ++v)
        logits->aligned[(b * T + t) * VOCAB + v] = *cell(table, v, at2(tokens, b, t));
  return 0;
}

int32_t hope_entry_train_step(void **args, const hope_services *services) {
  const MemRef2I *tokens = args[0];
  const MemRef2I *targets = args[1];
  const MemRef0F *lr = args[2];
  const MemRef0I *step = args[3];
  const MemRef2F *table = args[4];
  const MemRef2F *momentum = args[5];
  int64_t B = tokens->sizes[0], T = tokens->sizes[1];
  double grad[VOCAB][VOCAB] = {{0}};
  double loss = 0, norm = 0, p[VOCAB];
  int64_t scored = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      int64_t target = at2(targets, b, t), token = at2(tokens, b, t);
      double top = -INFINITY, sum = 0;
      if (target < 0)
        continue;
      ++scored;
      for (int64_t v = 0; v < VOCAB; ++v)
        top = fmax(top, *cell(table, v, token));
      for (int64_t v = 0; v < VOCAB; ++v)
        sum += p[v] = exp(*cell(table, v, token) - top);
      loss += log(sum) - (*cell(table, target, token) - top);
      for (int64_t v = 0; v < VOCAB; ++v)
        grad[v][token] += p[v] / sum - (v == target ? 1.0 : 0.0);
    }
  if (scored == 0)
    scored = 1;
  for (int64_t v = 0; v < VOCAB; ++v)
    for (int64_t u = 0; u < VOCAB; ++u) {
      double g = grad[v][u] / (double)scored;
      float *m = cell(momentum, v, u);
      norm += g * g;
      *m = 0.9f * *m + (float)g;
      *cell(table, v, u) -= lr->aligned[lr->offset] * *m;
    }
#if TRAIN_VARIANT == 1
  if (step->aligned[step->offset] == 3)
    *cell(table, 0, 0) = NAN;
#else
  (void)step;
#endif
  scalar(services, args[6], (float)(loss / (double)scored));
  scalar(services, args[7], (float)sqrt(norm));
  return 0;
}
