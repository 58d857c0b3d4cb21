/*===- fake_artifact.c - a hand-written artifact for the runtime's tests --===*\
|*                                                                            *|
|* Follows docs/artifact-abi.md exactly, as hope-compile's output will.       *|
|* FAKE_VARIANT selects a broken twin for the error tests:                    *|
|*   0 good, 1 an ill-typed manifest field, 2 an entry point without its      *|
|*   symbol, 3 CPU features no host has, 4 outputs that break the manifest,   *|
|*   5 an input name that is long and holds a control character,             *|
|*   6 a service table version no runtime provides, 7 (train) one more     *|
|*   entry point, sgd_step, which updates its weight w in place.             *|
|* FAKE_TRIPLE (from CMake) is the host's triple.                             *|
|*                                                                            *|
|* Entry points:                                                              *|
|*   forward(x[B,T,4], w[4] weight, state[B,4] state)                        *|
|*       -> y[B,T,4] = x * w + state, state' = state + 1                      *|
|*   stats(v[N] f64, k[] i64)                                                 *|
|*       -> total[] = k * sum(v); pairs[N,2] = (v, k*v), column-major;        *|
|*          idx[N] i64 = 0..N-1, at offset 1 in its buffer                    *|
|*       precondition 1: k >= 0                                               *|
|*   echo(a[N]) -> b[N], returning a's own buffer (not to be freed)           *|
|*   sgd_step(g[4], w[4] weight, updated) -> n[] = sum(g); w <- w - g         *|
\*===----------------------------------------------------------------------===*/

#include "hope/artifact.h"

#include <stdint.h>
#include <stdlib.h>

#ifndef FAKE_VARIANT
#define FAKE_VARIANT 0
#endif

#if defined(__x86_64__)
#define HOST_FEATURE "\"sse2\""
#else
#define HOST_FEATURE ""
#endif

#if FAKE_VARIANT == 3
#define FEATURES "\"avx512vp2intersect\", \"+hope-made-up-feature\""
#else
#define FEATURES HOST_FEATURE
#endif

#if FAKE_VARIANT == 1
#define X_ROLE "3"
#else
#define X_ROLE "\"input\""
#endif

#if FAKE_VARIANT == 5
#define X_NAME "\"a_long_input_name_with_escape\\u001b[31m\""
#else
#define X_NAME "\"x\""
#endif

#if FAKE_VARIANT == 6
#define SERVICES "99"
#else
#define SERVICES "1"
#endif

#if FAKE_VARIANT == 2
#define BACKWARD ", {\"name\": \"backward\", \"inputs\": [], \"outputs\": []}"
#elif FAKE_VARIANT == 7
#define BACKWARD ", {\"name\": \"sgd_step\",\n" \
  "   \"inputs\": [{\"name\": \"g\", \"role\": \"input\", \"dtype\": \"f32\", \"shape\": [4]},\n" \
  "     {\"name\": \"w\", \"role\": \"weight\", \"dtype\": \"f32\", \"shape\": [4], \"updated\": true}],\n" \
  "   \"outputs\": [{\"name\": \"n\", \"role\": \"output\", \"dtype\": \"f32\", \"shape\": []}]}"
#else
#define BACKWARD ""
#endif

/* The manifest is data: kept as written. */
/* clang-format off */
const char hope_manifest[] =
"{\"format\": \"hope-artifact\", \"version\": 4, \"services\": " SERVICES ", \"model\": \"fake\",\n"
" \"target\": {\"kind\": \"cpu\", \"triple\": \"" FAKE_TRIPLE "\", \"cpu\": \"generic\",\n"
"            \"features\": [" FEATURES "]},\n"
" \"entry_points\": [\n"
"  {\"name\": \"forward\",\n"
"   \"inputs\": [\n"
"    {\"name\": " X_NAME ", \"role\": " X_ROLE ", \"dtype\": \"f32\", \"shape\": [\"B\", \"T\", 4]},\n"
"    {\"name\": \"w\", \"role\": \"weight\", \"dtype\": \"f32\", \"shape\": [4]},\n"
"    {\"name\": \"state\", \"role\": \"state\", \"dtype\": \"f32\", \"shape\": [\"B\", 4]}],\n"
"   \"outputs\": [\n"
"    {\"name\": \"y\", \"role\": \"output\", \"dtype\": \"f32\", \"shape\": [\"B\", \"T\", 4]},\n"
"    {\"name\": \"state\", \"role\": \"state\", \"dtype\": \"f32\", \"shape\": [\"B\", 4]}]},\n"
"  {\"name\": \"stats\",\n"
"   \"inputs\": [\n"
"    {\"name\": \"v\", \"role\": \"input\", \"dtype\": \"f64\", \"shape\": [\"N\"]},\n"
"    {\"name\": \"k\", \"role\": \"input\", \"dtype\": \"i64\", \"shape\": []}],\n"
"   \"outputs\": [\n"
"    {\"name\": \"total\", \"role\": \"output\", \"dtype\": \"f64\", \"shape\": []},\n"
"    {\"name\": \"pairs\", \"role\": \"output\", \"dtype\": \"f64\", \"shape\": [\"N\", 2]},\n"
"    {\"name\": \"idx\", \"role\": \"output\", \"dtype\": \"i64\", \"shape\": [\"N\"]}],\n"
"   \"preconditions\": [{\"message\": \"k must not be negative\", \"inputs\": [\"k\"]}]},\n"
"  {\"name\": \"echo\",\n"
"   \"inputs\": [{\"name\": \"a\", \"role\": \"input\", \"dtype\": \"f32\", \"shape\": [\"N\"]}],\n"
"   \"outputs\": [{\"name\": \"b\", \"role\": \"output\", \"dtype\": \"f32\", \"shape\": [\"N\"]}]}\n"
"  " BACKWARD "]}\n";
/* clang-format on */

/* MLIR's ranked memref descriptors. */
#define MEMREF(name, T, R)                                                     \
  typedef struct {                                                             \
    T *allocated, *aligned;                                                    \
    int64_t offset, sizes[R], strides[R];                                      \
  } name
MEMREF(MemRef3F, float, 3);
MEMREF(MemRef2F, float, 2);
MEMREF(MemRef1F, float, 1);
MEMREF(MemRef2D, double, 2);
MEMREF(MemRef1D, double, 1);
MEMREF(MemRef1I, int64_t, 1);
typedef struct {
  double *allocated, *aligned;
  int64_t offset;
} MemRef0D;
typedef struct {
  int64_t *allocated, *aligned;
  int64_t offset;
} MemRef0I;

/* Every buffer comes from the runtime, as compiled artifacts' do. */
static void *allocate(const hope_services *services, size_t bytes) {
  return services->alloc(services->context, bytes, 64);
}

int32_t hope_entry_forward(void **args, const hope_services *services) {
  const MemRef3F *x = args[0];
  const MemRef1F *w = args[1];
  const MemRef2F *state = args[2];
  MemRef3F *y = args[3];
  MemRef2F *next = args[4];
  int64_t B = x->sizes[0], T = x->sizes[1], D = x->sizes[2];
#if FAKE_VARIANT == 4
  T += 1; /* a y the manifest does not allow */
#endif
  y->allocated = y->aligned = allocate(services, sizeof(float) * (B * T * D + 1));
  y->offset = 0;
  y->sizes[0] = B, y->sizes[1] = T, y->sizes[2] = D;
  y->strides[0] = T * D, y->strides[1] = D, y->strides[2] = 1;
  next->allocated = next->aligned = allocate(services, sizeof(float) * (B * D + 1));
  next->offset = 0;
  next->sizes[0] = B, next->sizes[1] = D;
  next->strides[0] = D, next->strides[1] = 1;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t d = 0; d < D; ++d) {
      float s = state->aligned[state->offset + b * state->strides[0] +
                               d * state->strides[1]];
      next->aligned[b * D + d] = s + 1;
      for (int64_t t = 0; t < x->sizes[1]; ++t)
        y->aligned[(b * T + t) * D + d] =
            x->aligned[x->offset + b * x->strides[0] + t * x->strides[1] +
                       d * x->strides[2]] *
                w->aligned[w->offset + d * w->strides[0]] +
            s;
    }
  }
  return 0;
}

int32_t hope_entry_stats(void **args, const hope_services *services) {
  const MemRef1D *v = args[0];
  const MemRef0I *k = args[1];
  MemRef0D *total = args[2];
  MemRef2D *pairs = args[3];
  MemRef1I *idx = args[4];
  int64_t N = v->sizes[0], K = k->aligned[k->offset];
  double sum = 0;
  if (K < 0)
    return 1; /* precondition 1 fails: nothing allocated */
  total->allocated = total->aligned = allocate(services, sizeof(double));
  total->offset = 0;
  /* Column-major: pairs[i][j] lives at j * N + i. */
  pairs->allocated = pairs->aligned = allocate(services, sizeof(double) * (2 * N + 1));
  pairs->offset = 0;
  pairs->sizes[0] = N, pairs->sizes[1] = 2;
  pairs->strides[0] = 1, pairs->strides[1] = N;
  /* One element before the data, skipped by the offset. */
  idx->allocated = idx->aligned = allocate(services, sizeof(int64_t) * (N + 1));
  idx->offset = 1;
  idx->sizes[0] = N, idx->strides[0] = 1;
  idx->aligned[0] = -1;
  for (int64_t i = 0; i < N; ++i) {
    double value = v->aligned[v->offset + i * v->strides[0]];
    sum += value;
    pairs->aligned[i] = value;
    pairs->aligned[N + i] = (double)K * value;
    idx->aligned[1 + i] = i;
  }
  total->aligned[0] = (double)K * sum;
  return 0;
}

int32_t hope_entry_echo(void **args, const hope_services *services) {
  (void)services;
  const MemRef1F *a = args[0];
  MemRef1F *b = args[1];
  *b = *a; /* the input's own buffer: the runtime must copy, not free it */
  return 0;
}

#if FAKE_VARIANT == 7
typedef struct {
  float *allocated, *aligned;
  int64_t offset;
} MemRef0F;

int32_t hope_entry_sgd_step(void **args, const hope_services *services) {
  const MemRef1F *g = args[0];
  MemRef1F *w = args[1]; /* written in place, as "updated" says */
  MemRef0F *n = args[2];
  n->allocated = n->aligned = allocate(services, sizeof(float));
  n->offset = 0;
  n->aligned[0] = 0;
  for (int64_t i = 0; i < 4; ++i) {
    float gi = g->aligned[g->offset + i * g->strides[0]];
    w->aligned[w->offset + i * w->strides[0]] -= gi;
    n->aligned[0] += gi;
  }
  return 0;
}
#endif
