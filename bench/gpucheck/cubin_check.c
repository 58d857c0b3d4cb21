/* cubin_check: loads the images of bench/gpucheck/chunked_memory.mlir (lowered by our MLIR
 * pipeline: cubins per chip, PTX) through the CUDA driver API, opened at run time with
 * dlopen("libcuda.so.1") (no CUDA header or library at build time), launches the kernel of each
 * image that loads, and compares its results with a float64 CPU reference of the same math.
 *
 *   cubin_check [--blocks N] LABEL=PATH...   LABEL: sm_XY (a cubin for that chip) or ptx
 *   cubin_check --describe                   the kernel parameter layout this loader passes
 *
 * Prints one JSON object on stdout: the driver version, the device (name, compute capability,
 * SMs, memory), the image a runtime would select (the cubin of the device's chip, else the
 * PTX), and per image: loaded or the driver's error, registers / static shared memory / local
 * memory from cuFuncGetAttribute, the max relative errors of the outputs, whether two launches
 * gave bitwise-equal results, and the time of one launch (CUDA events).
 * Exit status: 0 every loadable image passed and the selected one loaded; 1 a check failed;
 * 2 usage or file error; 3 no driver (libcuda.so.1 missing or cuInit failed), said in the JSON.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kernel's fixed sizes (chunked_memory.mlir). */
enum { D = 16, T = 128, CHUNK = 16, THREADS = 256, MEMREF_RANK = 3, MEMREFS = 6 };
/* Each memref parameter is MLIR's descriptor spread over scalars: allocated and aligned
 * pointers, offset, sizes[3], strides[3]; then eta (f32). */
enum { DESC_WORDS = 3 + 2 * MEMREF_RANK, PARAMS = MEMREFS * DESC_WORDS + 1 };
static const float ETA = 0.5f;
static const double TOLERANCE = 1e-5; /* float32 vs float64 at test lengths (semantics doc §8) */

/* The driver API subset used here (types as in cuda.h; entry points by their ABI names). */
typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef unsigned long long CUdeviceptr;
enum {
  CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
  CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0,
  CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1,
  CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES = 3,
  CU_FUNC_ATTRIBUTE_NUM_REGS = 4,
};

static struct {
  CUresult (*init)(unsigned);
  CUresult (*driverGetVersion)(int *);
  CUresult (*deviceGet)(CUdevice *, int);
  CUresult (*deviceGetName)(char *, int, CUdevice);
  CUresult (*deviceGetAttribute)(int *, int, CUdevice);
  CUresult (*deviceTotalMem)(size_t *, CUdevice);
  CUresult (*primaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*primaryCtxRelease)(CUdevice);
  CUresult (*ctxSetCurrent)(CUcontext);
  CUresult (*ctxSynchronize)(void);
  CUresult (*moduleLoadData)(CUmodule *, const void *);
  CUresult (*moduleUnload)(CUmodule);
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*funcGetAttribute)(int *, int, CUfunction);
  CUresult (*memAlloc)(CUdeviceptr *, size_t);
  CUresult (*memFree)(CUdeviceptr);
  CUresult (*memcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*memcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*launchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                           unsigned, CUstream, void **, void **);
  CUresult (*eventCreate)(CUevent *, unsigned);
  CUresult (*eventRecord)(CUevent, CUstream);
  CUresult (*eventSynchronize)(CUevent);
  CUresult (*eventElapsedTime)(float *, CUevent, CUevent);
  CUresult (*eventDestroy)(CUevent);
  CUresult (*getErrorString)(CUresult, const char **);
} cu;

static void json_string(const char *s) {
  putchar('"');
  for (; s && *s; ++s) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      printf("\\%c", ch);
    else if (ch < 0x20)
      printf("\\u%04x", ch);
    else
      putchar(ch);
  }
  putchar('"');
}

static const char *error_text(CUresult r) {
  const char *s = NULL;
  if (cu.getErrorString && cu.getErrorString(r, &s) == 0 && s)
    return s;
  return "unknown CUDA error";
}

/* Resolves every entry point; on failure names the missing one in *missing. */
static int load_driver(const char **missing) {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    *missing = dlerror();
    return 0;
  }
#define SYM(field, name)                                                                           \
  do {                                                                                             \
    *(void **)&cu.field = dlsym(lib, name);                                                        \
    if (!cu.field) {                                                                               \
      *missing = "libcuda.so.1 lacks " name;                                                       \
      return 0;                                                                                    \
    }                                                                                              \
  } while (0)
  SYM(init, "cuInit");
  SYM(driverGetVersion, "cuDriverGetVersion");
  SYM(deviceGet, "cuDeviceGet");
  SYM(deviceGetName, "cuDeviceGetName");
  SYM(deviceGetAttribute, "cuDeviceGetAttribute");
  SYM(deviceTotalMem, "cuDeviceTotalMem_v2");
  SYM(primaryCtxRetain, "cuDevicePrimaryCtxRetain");
  SYM(primaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
  SYM(ctxSetCurrent, "cuCtxSetCurrent");
  SYM(ctxSynchronize, "cuCtxSynchronize");
  SYM(moduleLoadData, "cuModuleLoadData");
  SYM(moduleUnload, "cuModuleUnload");
  SYM(moduleGetFunction, "cuModuleGetFunction");
  SYM(funcGetAttribute, "cuFuncGetAttribute");
  SYM(memAlloc, "cuMemAlloc_v2");
  SYM(memFree, "cuMemFree_v2");
  SYM(memcpyHtoD, "cuMemcpyHtoD_v2");
  SYM(memcpyDtoH, "cuMemcpyDtoH_v2");
  SYM(launchKernel, "cuLaunchKernel");
  SYM(eventCreate, "cuEventCreate");
  SYM(eventRecord, "cuEventRecord");
  SYM(eventSynchronize, "cuEventSynchronize");
  SYM(eventElapsedTime, "cuEventElapsedTime");
  SYM(eventDestroy, "cuEventDestroy_v2");
  SYM(getErrorString, "cuGetErrorString");
#undef SYM
  return 1;
}

/* Inputs, seeded (a fixed LCG: the same numbers on every machine). */
static float uniform(uint64_t *state) {
  *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (float)((double)(*state >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

struct problem {
  int blocks;
  float *w0, *k, *v, *q; /* [blocks][D][D], [blocks][T][D] x3 */
  double *o_ref, *w_ref; /* the float64 reference */
};

static void make_problem(struct problem *p, int blocks) {
  size_t nw = (size_t)blocks * D * D, nx = (size_t)blocks * T * D;
  uint64_t s = 12345;
  p->blocks = blocks;
  p->w0 = malloc(nw * sizeof(float));
  p->k = malloc(nx * sizeof(float));
  p->v = malloc(nx * sizeof(float));
  p->q = malloc(nx * sizeof(float));
  p->o_ref = malloc(nx * sizeof(double));
  p->w_ref = malloc(nw * sizeof(double));
  for (size_t i = 0; i < nw; ++i)
    p->w0[i] = 0.25f * uniform(&s);
  for (size_t i = 0; i < nx; ++i) {
    p->k[i] = 0.25f * uniform(&s); /* sum_t k k^T over a chunk ~ I/3: eta 0.5 contracts */
    p->v[i] = uniform(&s);
    p->q[i] = 0.25f * uniform(&s);
  }
  for (int b = 0; b < blocks; ++b) {
    double w[D][D], e[CHUNK][D];
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j)
        w[i][j] = p->w0[((size_t)b * D + i) * D + j];
    for (int c = 0; c < T; c += CHUNK) {
      for (int t = 0; t < CHUNK; ++t) {
        const float *kt = p->k + ((size_t)b * T + c + t) * D, *qt = p->q + ((size_t)b * T + c + t) * D;
        const float *vt = p->v + ((size_t)b * T + c + t) * D;
        for (int r = 0; r < D; ++r) {
          double pk = 0, pq = 0;
          for (int s2 = 0; s2 < D; ++s2) {
            pk += w[r][s2] * kt[s2];
            pq += w[r][s2] * qt[s2];
          }
          e[t][r] = pk - vt[r];
          p->o_ref[((size_t)b * T + c + t) * D + r] = pq;
        }
      }
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) {
          double g = 0;
          for (int t = 0; t < CHUNK; ++t)
            g += e[t][i] * p->k[((size_t)b * T + c + t) * D + j];
          w[i][j] -= (double)ETA * g;
        }
    }
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j)
        p->w_ref[((size_t)b * D + i) * D + j] = w[i][j];
  }
}

static double max_rel_err(const float *got, const double *ref, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = fabs((double)got[i] - ref[i]);
    num = d > num || isnan(d) ? d : num;
    den = fabs(ref[i]) > den ? fabs(ref[i]) : den;
  }
  return den > 0 ? num / den : num;
}

/* The descriptor words of one memref [dim0][dim1][dim2] at device address ptr. */
static void describe_memref(uint64_t *words, CUdeviceptr ptr, int dim0, int dim1, int dim2) {
  words[0] = ptr;                   /* allocated */
  words[1] = ptr;                   /* aligned */
  words[2] = 0;                     /* offset */
  words[3] = (uint64_t)dim0;        /* sizes */
  words[4] = (uint64_t)dim1;
  words[5] = (uint64_t)dim2;
  words[6] = (uint64_t)dim1 * dim2; /* strides */
  words[7] = (uint64_t)dim2;
  words[8] = 1;
}

static char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *data = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    data = NULL;
  }
  fclose(f);
  if (data) {
    data[n] = '\0'; /* PTX is loaded as a NUL-terminated string */
    *size = (size_t)n;
  }
  return data;
}

#define CHECK(call)                                                                                \
  do {                                                                                             \
    CUresult r_ = (call);                                                                          \
    if (r_ != 0) {                                                                                 \
      failed_call = #call;                                                                         \
      result = r_;                                                                                 \
      goto done;                                                                                   \
    }                                                                                              \
  } while (0)

/* Loads, runs and checks one image; prints its JSON object. Returns 1 when it passed, 0 when it
 * loaded but failed a check or a call failed, -1 when the driver refused to load it. */
static int run_image(const char *label, const char *path, const struct problem *p) {
  size_t size = 0, nw = (size_t)p->blocks * D * D, nx = (size_t)p->blocks * T * D;
  char *image = read_file(path, &size);
  CUmodule module = NULL;
  CUfunction fn = NULL;
  CUdeviceptr buf[MEMREFS] = {0};
  CUevent start = NULL, stop = NULL;
  float *out_o[2] = {malloc(nx * sizeof(float)), malloc(nx * sizeof(float))};
  float *out_w[2] = {malloc(nw * sizeof(float)), malloc(nw * sizeof(float))};
  const char *failed_call = NULL;
  CUresult result = 0;
  int loaded = 0, regs = -1, shared = -1, local = -1, max_threads = -1, status = 0;
  double err_o = -1, err_w = -1;
  float ms = -1;
  int bitwise = 0;

  printf("{\"label\": ");
  json_string(label);
  printf(", \"path\": ");
  json_string(path);
  if (!image) {
    printf(", \"loaded\": false, \"error\": \"cannot read the image file\"}");
    free(out_o[0]), free(out_o[1]), free(out_w[0]), free(out_w[1]);
    return 0;
  }
  CHECK(cu.moduleLoadData(&module, image));
  loaded = 1;
  CHECK(cu.moduleGetFunction(&fn, module, "chunked_memory"));
  CHECK(cu.funcGetAttribute(&regs, CU_FUNC_ATTRIBUTE_NUM_REGS, fn));
  CHECK(cu.funcGetAttribute(&shared, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, fn));
  CHECK(cu.funcGetAttribute(&local, CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, fn));
  CHECK(cu.funcGetAttribute(&max_threads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, fn));
  {
    /* w0, k, v, q, o, w_out */
    const size_t bytes[MEMREFS] = {nw * 4, nx * 4, nx * 4, nx * 4, nx * 4, nw * 4};
    const float *host[4] = {p->w0, p->k, p->v, p->q};
    uint64_t words[MEMREFS * DESC_WORDS];
    float eta = ETA;
    void *params[PARAMS];
    for (int m = 0; m < MEMREFS; ++m) {
      CHECK(cu.memAlloc(&buf[m], bytes[m]));
      if (m < 4)
        CHECK(cu.memcpyHtoD(buf[m], host[m], bytes[m]));
      int state = m == 0 || m == 5;
      describe_memref(words + m * DESC_WORDS, buf[m], p->blocks, state ? D : T, D);
    }
    for (int i = 0; i < MEMREFS * DESC_WORDS; ++i)
      params[i] = &words[i];
    params[PARAMS - 1] = &eta;
    CHECK(cu.eventCreate(&start, 0));
    CHECK(cu.eventCreate(&stop, 0));
    for (int run = 0; run < 2; ++run) {
      CHECK(cu.eventRecord(start, NULL));
      CHECK(cu.launchKernel(fn, (unsigned)p->blocks, 1, 1, THREADS, 1, 1, 0, NULL, params, NULL));
      CHECK(cu.eventRecord(stop, NULL));
      CHECK(cu.eventSynchronize(stop));
      CHECK(cu.ctxSynchronize());
      CHECK(cu.eventElapsedTime(&ms, start, stop));
      CHECK(cu.memcpyDtoH(out_o[run], buf[4], bytes[4]));
      CHECK(cu.memcpyDtoH(out_w[run], buf[5], bytes[5]));
    }
  }
  err_o = max_rel_err(out_o[1], p->o_ref, nx);
  err_w = max_rel_err(out_w[1], p->w_ref, nw);
  bitwise = memcmp(out_o[0], out_o[1], nx * 4) == 0 && memcmp(out_w[0], out_w[1], nw * 4) == 0;
  status = err_o < TOLERANCE && err_w < TOLERANCE && bitwise ? 1 : 0;
done:
  printf(", \"loaded\": %s", loaded ? "true" : "false");
  if (failed_call) {
    printf(", \"error\": ");
    json_string(error_text(result));
    printf(", \"error_code\": %d, \"failed_call\": ", result);
    json_string(failed_call);
    status = loaded ? 0 : -1;
  }
  if (regs >= 0)
    printf(", \"registers\": %d, \"shared_bytes\": %d, \"local_bytes\": %d, \"max_threads\": %d", regs,
           shared, local, max_threads);
  if (err_o >= 0)
    printf(", \"max_rel_err_o\": %.3e, \"max_rel_err_w\": %.3e, \"tolerance\": %.0e, "
           "\"bitwise_equal_runs\": %s, \"launch_ms\": %.4f, \"passed\": %s",
           err_o, err_w, TOLERANCE, bitwise ? "true" : "false", ms, status == 1 ? "true" : "false");
  printf("}");
  if (start)
    cu.eventDestroy(start);
  if (stop)
    cu.eventDestroy(stop);
  for (int m = 0; m < MEMREFS; ++m)
    if (buf[m])
      cu.memFree(buf[m]);
  if (module)
    cu.moduleUnload(module);
  free(image);
  free(out_o[0]), free(out_o[1]), free(out_w[0]), free(out_w[1]);
  return status;
}

static void describe(void) {
  /* The parameter list the loader passes, in the PTX .param spelling. */
  printf("{\"kernel\": \"chunked_memory\", \"threads\": %d, \"params\": [", THREADS);
  for (int i = 0; i < PARAMS; ++i) {
    int word = i % DESC_WORDS; /* the allocated and aligned pointers lead each descriptor */
    printf("%s\"%s\"", i ? ", " : "", i == PARAMS - 1 ? "f32" : word < 2 ? "ptr" : "u64");
  }
  printf("]}\n");
}

int main(int argc, char **argv) {
  int blocks = 24; /* batch 3 x 8 heads */
  int first_image = 1;
  if (argc == 2 && strcmp(argv[1], "--describe") == 0) {
    describe();
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "--blocks") == 0) {
    blocks = atoi(argv[2]);
    first_image = 3;
  }
  if (blocks < 1 || blocks > 65535 || first_image >= argc) {
    fprintf(stderr, "usage: %s [--blocks N] LABEL=PATH... | --describe\n", argv[0]);
    return 2;
  }
  for (int a = first_image; a < argc; ++a)
    if (!strchr(argv[a], '=')) {
      fprintf(stderr, "cubin_check: expected LABEL=PATH, got '%s'\n", argv[a]);
      return 2;
    }

  const char *missing = NULL;
  if (!load_driver(&missing)) {
    printf("{\"driver\": null, \"error\": ");
    json_string(missing);
    printf("}\n");
    return 3;
  }
  CUresult r = cu.init(0);
  if (r != 0) {
    char message[256];
    snprintf(message, sizeof message, "cuInit failed: %s (%d)", error_text(r), r);
    printf("{\"driver\": null, \"error\": ");
    json_string(message);
    printf("}\n");
    return 3;
  }
  int version = 0, major = 0, minor = 0, sms = 0;
  char name[256] = {0};
  size_t memory = 0;
  CUdevice dev;
  CUcontext ctx;
  if (cu.driverGetVersion(&version) || cu.deviceGet(&dev, 0) || cu.deviceGetName(name, sizeof name, dev) ||
      cu.deviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev) ||
      cu.deviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev) ||
      cu.deviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev) ||
      cu.deviceTotalMem(&memory, dev) || cu.primaryCtxRetain(&ctx, dev) || cu.ctxSetCurrent(ctx)) {
    printf("{\"driver\": null, \"error\": \"no usable CUDA device 0\"}\n");
    return 3;
  }
  char chip[16];
  snprintf(chip, sizeof chip, "sm_%d%d", major, minor);
  /* What a runtime selects: the cubin of this chip, else the PTX (JIT). */
  const char *selected = NULL;
  for (int a = first_image; a < argc; ++a)
    if (strncmp(argv[a], chip, strlen(chip)) == 0 && argv[a][strlen(chip)] == '=')
      selected = chip;
  if (!selected)
    for (int a = first_image; a < argc; ++a)
      if (strncmp(argv[a], "ptx=", 4) == 0)
        selected = "ptx";

  struct problem p;
  make_problem(&p, blocks);
  printf("{\"driver\": {\"version\": %d, \"cuda\": \"%d.%d\"}, \"device\": {\"name\": ", version,
         version / 1000, (version % 1000) / 10);
  json_string(name);
  printf(", \"compute_capability\": \"%d.%d\", \"chip\": \"%s\", \"sms\": %d, \"memory_bytes\": %zu}, "
         "\"blocks\": %d, \"threads\": %d, \"selected\": ",
         major, minor, chip, sms, memory, blocks, THREADS);
  json_string(selected);
  printf(", \"images\": [");
  int failed = selected ? 0 : 1;
  for (int a = first_image; a < argc; ++a) {
    char label[64];
    const char *eq = strchr(argv[a], '=');
    snprintf(label, sizeof label, "%.*s", (int)(eq - argv[a]), argv[a]);
    if (a > first_image)
      printf(", ");
    int status = run_image(label, eq + 1, &p);
    int is_selected = selected && strcmp(label, selected) == 0;
    /* A cubin of another chip may be refused; the selected image and the PTX must pass. */
    if (status == 0 || (status < 0 && (is_selected || strcmp(label, "ptx") == 0)))
      failed = 1;
  }
  printf("], \"passed\": %s}\n", failed ? "false" : "true");
  cu.primaryCtxRelease(dev);
  return failed ? 1 : 0;
}
