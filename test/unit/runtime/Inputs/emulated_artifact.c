/*===- emulated_artifact.c - a hand-written "cuda-emulated" artifact ------===*\
|*                                                                            *|
|* Follows docs/artifact-abi.md ("CUDA artifacts") as hope-compile           *|
|* --target=cuda-emulated will: host code that allocates device memory and   *|
|* launches kernels only through the service table (version 3), and kernels  *|
|* exported as hope_kernel_<name>, each running every block and thread on    *|
|* the CPU. EMU_VARIANT selects a broken twin: 0 good, 1 a kernel without    *|
|* its symbol, 2 an image whose size differs from the manifest's, 3 target  *|
|* "cuda" (sm_80, sm_90) with images no driver can load, 4 target "cuda"    *|
|* with real cubins (sm_80, sm_90) and PTX (sm_80) of Inputs/cuda_kernels.cu *|
|* (built where nvcc is; runs on a GPU).                                     *|
|* EMU_TRIPLE (from CMake) is the host's triple.                             *|
|*                                                                            *|
|* Kernels (params: float *a, float *b, float *out, int64_t n):              *|
|*   0 scale:      out[i] = a[i] * b[i]                                       *|
|*   1 accumulate: out[i] = a[i] + b[i], staged through 64 KiB of shared    *|
|*                 memory (more than the 48 KiB a kernel gets by default)    *|
|*   2 check_positive: *(int32_t *)out = 1 if some a[i] <= 0, else 0 (a     *|
|*                 precondition check on device data: one thread)            *|
|* Entry points:                                                              *|
|*   forward(x[N], w[N] weight, state[N] state) -> y[N], state[N]             *|
|*       t = x * w (a temporary); y = t + state; state' = state + t          *|
|*       precondition 1: N > 0                                                *|
|*   square(x[N]) -> y[N] = x * x: one launch of scale                       *|
|*   broken(x[N]) -> y[N]: launches scale with 2048 threads per block (an    *|
|*       invalid launch), then accumulate, which must not run                 *|
|*   short(x[N]) -> y[N]: launches accumulate with 64 bytes of shared memory *|
|*       (its 32 threads stage 128): the kernel runs nothing and fails        *|
|*   stray(x[N]) -> y[N]: launches kernel number 7, which does not exist      *|
|*   positive(x[N]) -> y[N] = x * x: check_positive writes a status word,     *|
|*       read_status reads it (precondition 1: x > 0, on device data); then  *|
|*       scale, only if it holds                                              *|
\*===----------------------------------------------------------------------===*/

#include "hope/artifact.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef EMU_VARIANT
#define EMU_VARIANT 0
#endif

#if EMU_VARIANT == 2
#define IMAGE_BYTES "99"
#else
#define IMAGE_BYTES "9"
#endif

#define STRING(x) #x
#define DIGITS(x) STRING(x)

#if EMU_VARIANT == 4
/* Built by nvcc from Inputs/cuda_kernels.cu (EmbedImages.cmake). */
#include "cuda_images.h"
#define TARGET "\"kind\": \"cuda\", \"chips\": [\"sm_80\", \"sm_90\"], \"ptx_version\": \"9.0\","
#define IMAGES "{\"format\": \"cubin\", \"chip\": \"sm_90\", \"symbol\": \"hope_image_0\", \"bytes\": " DIGITS(HOPE_IMAGE_0_BYTES) "}, " \
               "{\"format\": \"cubin\", \"chip\": \"sm_80\", \"symbol\": \"hope_image_1\", \"bytes\": " DIGITS(HOPE_IMAGE_1_BYTES) "}, " \
               "{\"format\": \"ptx\", \"chip\": \"sm_80\", \"symbol\": \"hope_image_2\", \"bytes\": " DIGITS(HOPE_IMAGE_2_BYTES) "}"
#elif EMU_VARIANT == 3
#define TARGET "\"kind\": \"cuda\", \"chips\": [\"sm_80\", \"sm_90\"], \"ptx_version\": \"8.0\","
#define IMAGES "{\"format\": \"cubin\", \"chip\": \"sm_90\", \"symbol\": \"hope_image_0\", \"bytes\": 9}, " \
               "{\"format\": \"ptx\", \"chip\": \"sm_80\", \"symbol\": \"hope_image_1\", \"bytes\": 9}"
#else
#define TARGET "\"kind\": \"cuda-emulated\","
#define IMAGES "{\"format\": \"emulated\", \"symbol\": \"hope_image_0\", \"bytes\": " IMAGE_BYTES "}"
#endif

/* clang-format off */
const char hope_manifest[] =
"{\"format\": \"hope-artifact\", \"version\": 4, \"services\": 3, \"model\": \"emulated\",\n"
" \"target\": {" TARGET "\n"
"            \"host\": {\"triple\": \"" EMU_TRIPLE "\", \"cpu\": \"x86-64\", \"features\": []}},\n"
" \"kernels\": [{\"name\": \"scale\", \"block\": [64, 1, 1], \"shared_bytes\": 0},\n"
"             {\"name\": \"accumulate\", \"block\": [32, 1, 1], \"shared_bytes\": 65536},\n"
"             {\"name\": \"check_positive\", \"block\": [1, 1, 1], \"shared_bytes\": 0}],\n"
" \"images\": [" IMAGES "],\n"
" \"entry_points\": [\n"
"  {\"name\": \"forward\",\n"
"   \"inputs\": [\n"
"    {\"name\": \"x\", \"role\": \"input\", \"dtype\": \"f32\", \"shape\": [\"N\"]},\n"
"    {\"name\": \"w\", \"role\": \"weight\", \"dtype\": \"f32\", \"shape\": [\"N\"]},\n"
"    {\"name\": \"state\", \"role\": \"state\", \"dtype\": \"f32\", \"shape\": [\"N\"]}],\n"
"   \"outputs\": [\n"
"    {\"name\": \"y\", \"role\": \"output\", \"dtype\": \"f32\", \"shape\": [\"N\"]},\n"
"    {\"name\": \"state\", \"role\": \"state\", \"dtype\": \"f32\", \"shape\": [\"N\"]}],\n"
"   \"preconditions\": [{\"message\": \"x must not be empty\", \"inputs\": [\"x\"]}]},\n"
"  {\"name\": \"square\",\n"
"   \"inputs\": [{\"name\": \"x\", \"role\": \"input\", \"dtype\": \"f32\", \"shape\": [\"N\"]}],\n"
"   \"outputs\": [{\"name\": \"y\", \"role\": \"output\", \"dtype\": \"f32\", \"shape\": [\"N\"]}]},\n"
"  {\"name\": \"broken\",\n"
"   \"inputs\": [{\"name\": \"x\", \"role\": \"input\", \"dtype\": \"f32\", \"shape\": [\"N\"]}],\n"
"   \"outputs\": [{\"name\": \"y\", \"role\": \"output\", \"dtype\": \"f32\", \"shape\": [\"N\"]}]},\n"
"  {\"name\": \"short\",\n"
"   \"inputs\": [{\"name\": \"x\", \"role\": \"input\", \"dtype\": \"f32\", \"shape\": [\"N\"]}],\n"
"   \"outputs\": [{\"name\": \"y\", \"role\": \"output\", \"dtype\": \"f32\", \"shape\": [\"N\"]}]},\n"
"  {\"name\": \"stray\",\n"
"   \"inputs\": [{\"name\": \"x\", \"role\": \"input\", \"dtype\": \"f32\", \"shape\": [\"N\"]}],\n"
"   \"outputs\": [{\"name\": \"y\", \"role\": \"output\", \"dtype\": \"f32\", \"shape\": [\"N\"]}]},\n"
"  {\"name\": \"positive\",\n"
"   \"inputs\": [{\"name\": \"x\", \"role\": \"input\", \"dtype\": \"f32\", \"shape\": [\"N\"]}],\n"
"   \"outputs\": [{\"name\": \"y\", \"role\": \"output\", \"dtype\": \"f32\", \"shape\": [\"N\"]}],\n"
"   \"preconditions\": [{\"message\": \"x must be positive\", \"inputs\": [\"x\"]}]}]}\n";
/* clang-format on */

/* The emulated image: its bytes are not used (the kernels are below). In
   the "cuda" twin, a cubin and PTX that no driver can load. */
#if EMU_VARIANT != 4
const char hope_image_0[9] = "emulated";
#endif
#if EMU_VARIANT == 3
const char hope_image_1[9] = "not ptx!";
#endif

typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
} MemRef1F;

/* What the stand-in finds as the artifact's OpenMP runtime (an artifact
   compiled by hope-compile gets it from libomp): the thread count it sets
   before each kernel, for the tests to read. */
static int threads_set = 0;
void omp_set_num_threads(int threads) { threads_set = threads; }
int emulated_threads_set(void) { return threads_set; }

/* The kernels: every block, and in it every thread, in turn. */
#define PARAMS                                                                 \
  const float *a = *(float **)params[0];                                       \
  const float *b = *(float **)params[1];                                       \
  float *out = *(float **)params[2];                                           \
  int64_t n = *(int64_t *)params[3]

int32_t hope_kernel_scale(void **params, const uint32_t grid[3],
                          const uint32_t block[3], uint32_t shared_bytes) {
  PARAMS;
  (void)shared_bytes;
  for (uint32_t bx = 0; bx < grid[0]; ++bx)
    for (uint32_t tx = 0; tx < block[0]; ++tx) {
      int64_t i = (int64_t)bx * block[0] + tx;
      if (i < n)
        out[i] = a[i] * b[i];
    }
  return 0;
}

#if EMU_VARIANT != 1
int32_t hope_kernel_accumulate(void **params, const uint32_t grid[3],
                               const uint32_t block[3], uint32_t shared_bytes) {
  PARAMS;
  /* Nonzero: less dynamic shared memory than the block's threads stage. */
  if (shared_bytes < block[0] * sizeof(float))
    return 1;
  /* Workgroup memory: one buffer per block; the body is split at the
     barrier between staging and use. */
  float *shared = malloc(shared_bytes);
  for (uint32_t bx = 0; bx < grid[0]; ++bx) {
    for (uint32_t tx = 0; tx < block[0]; ++tx) {
      int64_t i = (int64_t)bx * block[0] + tx;
      shared[tx] = i < n ? a[i] : 0;
    }
    /* barrier */
    for (uint32_t tx = 0; tx < block[0]; ++tx) {
      int64_t i = (int64_t)bx * block[0] + tx;
      if (i < n)
        out[i] = shared[tx] + b[i];
    }
  }
  free(shared);
  return 0;
}
#endif

int32_t hope_kernel_check_positive(void **params, const uint32_t grid[3],
                                   const uint32_t block[3],
                                   uint32_t shared_bytes) {
  PARAMS;
  (void)b, (void)grid, (void)block, (void)shared_bytes;
  int32_t status = 0;
  for (int64_t i = 0; i < n; ++i)
    if (!(a[i] > 0))
      status = 1;
  *(int32_t *)(void *)out = status;
  return 0;
}

static void launch(const hope_services *s, uint32_t kernel, uint32_t threads,
                   uint32_t shared, const float *a, const float *b, float *out,
                   int64_t n) {
  uint32_t grid[3] = {(uint32_t)((n + threads - 1) / threads), 1, 1};
  uint32_t block[3] = {threads, 1, 1};
  void *params[4] = {&a, &b, &out, &n};
  /* The status is not needed: errors are sticky and reported by the
     runtime after the call. */
  (void)s->launch(s->context, kernel, grid, block, shared, params);
}

static float *output(const hope_services *s, MemRef1F *out, int64_t n) {
  float *data = s->device_alloc(s->context, (uint64_t)n * sizeof(float));
  out->allocated = out->aligned = data;
  out->offset = 0;
  out->sizes[0] = n;
  out->strides[0] = 1;
  return data;
}

int32_t hope_entry_forward(void **args, const hope_services *s) {
  const MemRef1F *x = args[0], *w = args[1], *state = args[2];
  int64_t n = x->sizes[0];
  if (n <= 0)
    return 1;
  /* Host code's own scratch (the compiler's host code allocates host
     buffers too): from the session's allocator, through the table. */
  int64_t *scratch = s->alloc(s->context, 64, 64);
  if (!scratch)
    return 1;
  scratch[0] = n;
  s->free(s->context, scratch);
  float *t = s->device_alloc(s->context, (uint64_t)n * sizeof(float));
  launch(s, 0, 64, 0, x->aligned, w->aligned, t, n);
  float *y = output(s, args[3], n);
  launch(s, 1, 32, 65536, t, state->aligned, y, n);
  float *next = output(s, args[4], n);
  launch(s, 1, 32, 65536, state->aligned, t, next, n);
  s->device_free(s->context, t);
  return 0;
}

int32_t hope_entry_square(void **args, const hope_services *s) {
  const MemRef1F *x = args[0];
  int64_t n = x->sizes[0];
  float *y = output(s, args[1], n);
  launch(s, 0, 64, 0, x->aligned, x->aligned, y, n);
  return 0;
}

int32_t hope_entry_broken(void **args, const hope_services *s) {
  const MemRef1F *x = args[0];
  int64_t n = x->sizes[0];
  float *y = output(s, args[1], n);
  launch(s, 0, 2048, 0, x->aligned, x->aligned, y, n); /* fails */
  launch(s, 1, 32, 65536, x->aligned, x->aligned, y, n); /* skipped */
  return 0;
}

int32_t hope_entry_short(void **args, const hope_services *s) {
  const MemRef1F *x = args[0];
  int64_t n = x->sizes[0];
  float *y = output(s, args[1], n);
  launch(s, 1, 32, 64, x->aligned, x->aligned, y, n); /* fails */
  return 0;
}

int32_t hope_entry_stray(void **args, const hope_services *s) {
  const MemRef1F *x = args[0];
  int64_t n = x->sizes[0];
  float *y = output(s, args[1], n);
  launch(s, 7, 32, 0, x->aligned, x->aligned, y, n);
  return 0;
}

int32_t hope_entry_positive(void **args, const hope_services *s) {
  const MemRef1F *x = args[0];
  int64_t n = x->sizes[0];
  /* The verdict is computed on the device; the host reads it through the
     runtime before launching work that relies on it. */
  float *word = s->device_alloc(s->context, sizeof(int32_t));
  uint32_t one[3] = {1, 1, 1};
  const float *a = x->aligned;
  void *params[4] = {&a, &a, &word, &n};
  (void)s->launch(s->context, 2, one, one, 0, params);
  int32_t status = s->read_status(s->context, word);
  s->device_free(s->context, word);
  if (status != 0)
    return status;
  float *y = output(s, args[1], n);
  launch(s, 0, 64, 0, x->aligned, x->aligned, y, n);
  return 0;
}
