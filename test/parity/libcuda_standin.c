/* A CPU stand-in for the CUDA driver (libcuda.so.1), for test_gpu_check.py only: it lets
 * bench/gpucheck/cubin_check run its whole path here (driver loading, the image a runtime
 * picks, module loading, attributes, copies, the launch with MLIR's memref descriptors, the
 * comparison and the JSON) without a GPU.
 *
 * The device is "sm_<STANDIN_CC>" (default 90). cuModuleLoadData takes a cubin whose ptxas
 * options (.note.nv.tkinfo) say "-arch sm_<CC>" and refuses another chip's (209, as the driver
 * does); it takes PTX whose ".target sm_XY" is not newer than the device. The register count
 * of a cubin is read from its .nv.info (EIATTR_REGCOUNT), that of a PTX module is
 * STANDIN_PTX_REGS (no JIT here). cuLaunchKernel checks the launch shape and every descriptor
 * word against the kernel's static sizes and runs the kernel's math in float32 through the
 * descriptors' pointers, offsets and strides; STANDIN_CORRUPT=1 perturbs one output element,
 * so that the loader's comparison is seen to fail.
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
enum { OK = 0, INVALID_VALUE = 1, NO_BINARY_FOR_GPU = 209, INVALID_PTX = 218, NOT_FOUND = 500 };
enum { D = 16, T = 128, CHUNK = 16, THREADS = 256, WORDS = 9, PARAMS = 6 * WORDS + 1 };

struct module {
  int regs;
};
struct event {
  double seconds;
};

static int device_cc(void) {
  const char *cc = getenv("STANDIN_CC");
  return cc ? atoi(cc) : 90;
}

CUresult cuInit(unsigned flags) { return flags == 0 ? OK : INVALID_VALUE; }
CUresult cuDriverGetVersion(int *v) { *v = 13000; return OK; }
CUresult cuDeviceGet(int *dev, int ordinal) { *dev = ordinal; return ordinal == 0 ? OK : INVALID_VALUE; }
CUresult cuDeviceGetName(char *name, int len, int dev) {
  (void)dev;
  strncpy(name, "CPU stand-in for libcuda (test_gpu_check.py)", (size_t)len - 1);
  name[len - 1] = '\0';
  return OK;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, int dev) {
  (void)dev;
  switch (attribute) {
  case 16: *value = 4; return OK;                    /* multiprocessors */
  case 75: *value = device_cc() / 10; return OK;     /* compute capability major */
  case 76: *value = device_cc() % 10; return OK;     /* minor */
  default: return INVALID_VALUE;
  }
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, int dev) { (void)dev; *bytes = (size_t)1 << 30; return OK; }
CUresult cuDevicePrimaryCtxRetain(void **ctx, int dev) { (void)dev; *ctx = (void *)0x1; return OK; }
CUresult cuDevicePrimaryCtxRelease_v2(int dev) { (void)dev; return OK; }
CUresult cuCtxSetCurrent(void *ctx) { return ctx ? OK : INVALID_VALUE; }
CUresult cuCtxSynchronize(void) { return OK; }

/* EIATTR_REGCOUNT (attribute 0x2f, format EIFMT_SVAL 0x04: u32 symbol, u32 value) in any .nv.info section. */
static int cubin_registers(const unsigned char *elf) {
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf;
  const Elf64_Shdr *sh = (const Elf64_Shdr *)(elf + eh->e_shoff);
  const char *names = (const char *)elf + sh[eh->e_shstrndx].sh_offset;
  for (int i = 0; i < eh->e_shnum; ++i) {
    if (strncmp(names + sh[i].sh_name, ".nv.info", 8) != 0)
      continue;
    const unsigned char *p = elf + sh[i].sh_offset, *end = p + sh[i].sh_size;
    while (p + 4 <= end) {
      unsigned size = p[0] == 0x04 ? (unsigned)(p[2] | p[3] << 8) : 0;
      if (p[0] == 0x04 && p[1] == 0x2f && size == 8)
        return (int)(p[8] | p[9] << 8 | p[10] << 16 | (unsigned)p[11] << 24);
      p += 4 + size;
    }
  }
  return -1;
}

CUresult cuModuleLoadData(struct module **mod, const void *image) {
  const unsigned char *bytes = image;
  int regs = -1;
  if (memcmp(bytes, ELFMAG, SELFMAG) == 0) {
    const Elf64_Ehdr *eh = image;
    size_t size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
    char want[16];
    size_t n = (size_t)snprintf(want, sizeof want, "-arch sm_%d", device_cc());
    int found = 0;
    for (size_t i = 0; i + n <= size && !found; ++i)
      found = memcmp(bytes + i, want, n) == 0 && (bytes[i + n] < '0' || bytes[i + n] > '9');
    if (!found)
      return NO_BINARY_FOR_GPU;
    regs = cubin_registers(bytes);
  } else {
    const char *target = strstr(image, ".target sm_");
    if (!target || atoi(target + 11) > device_cc())
      return INVALID_PTX;
    const char *r = getenv("STANDIN_PTX_REGS");
    regs = r ? atoi(r) : -1;
  }
  *mod = malloc(sizeof **mod);
  (*mod)->regs = regs;
  return OK;
}
CUresult cuModuleUnload(struct module *mod) { free(mod); return OK; }
CUresult cuModuleGetFunction(struct module **fn, struct module *mod, const char *name) {
  if (strcmp(name, "chunked_memory") != 0)
    return NOT_FOUND;
  *fn = mod;
  return OK;
}
CUresult cuFuncGetAttribute(int *value, int attribute, struct module *fn) {
  switch (attribute) {
  case 0: *value = 1024; return OK;        /* max threads per block */
  case 1: *value = 2 * D * D * 4; return OK; /* static shared bytes: W and E */
  case 3: *value = 0; return OK;           /* local bytes */
  case 4: *value = fn->regs; return OK;
  default: return INVALID_VALUE;
  }
}
CUresult cuMemAlloc_v2(CUdeviceptr *ptr, size_t bytes) {
  void *p = malloc(bytes);
  *ptr = (CUdeviceptr)(uintptr_t)p;
  return p ? OK : 2;
}
CUresult cuMemFree_v2(CUdeviceptr ptr) { free((void *)(uintptr_t)ptr); return OK; }
CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t n) { memcpy((void *)(uintptr_t)dst, src, n); return OK; }
CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t n) { memcpy(dst, (void *)(uintptr_t)src, n); return OK; }

/* One memref descriptor: 9 words, checked against [dim0][dim1][dim2] contiguous. */
struct view {
  float *data;
  uint64_t stride[3];
};
static int read_view(void **params, int m, uint64_t dim0, uint64_t dim1, uint64_t dim2, struct view *v) {
  uint64_t w[WORDS];
  for (int i = 0; i < WORDS; ++i)
    w[i] = *(uint64_t *)params[m * WORDS + i];
  if (w[0] != w[1] || w[3] != dim0 || w[4] != dim1 || w[5] != dim2 || w[6] != dim1 * dim2 || w[7] != dim2 || w[8] != 1)
    return 0;
  v->data = (float *)(uintptr_t)w[1] + w[2];
  v->stride[0] = w[6], v->stride[1] = w[7], v->stride[2] = w[8];
  return 1;
}
#define AT(v, a, b, c) (v).data[(a) * (v).stride[0] + (b) * (v).stride[1] + (c) * (v).stride[2]]

CUresult cuLaunchKernel(struct module *fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                        unsigned bz, unsigned shared, void *stream, void **params, void **extra) {
  (void)fn, (void)stream;
  if (gy != 1 || gz != 1 || bx != THREADS || by != 1 || bz != 1 || shared != 0 || extra || !params)
    return INVALID_VALUE;
  struct view w0, k, v, q, o, w_out;
  if (!read_view(params, 0, gx, D, D, &w0) || !read_view(params, 1, gx, T, D, &k) ||
      !read_view(params, 2, gx, T, D, &v) || !read_view(params, 3, gx, T, D, &q) ||
      !read_view(params, 4, gx, T, D, &o) || !read_view(params, 5, gx, D, D, &w_out))
    return INVALID_VALUE;
  float eta = *(float *)params[PARAMS - 1];
  for (unsigned b = 0; b < gx; ++b) {
    float W[D][D], E[CHUNK][D];
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j)
        W[i][j] = AT(w0, b, i, j);
    for (int c = 0; c < T; c += CHUNK) {
      for (int t = 0; t < CHUNK; ++t)
        for (int r = 0; r < D; ++r) {
          float pk = 0, pq = 0;
          for (int s = 0; s < D; ++s) {
            pk += W[r][s] * AT(k, b, c + t, s);
            pq += W[r][s] * AT(q, b, c + t, s);
          }
          E[t][r] = pk - AT(v, b, c + t, r);
          AT(o, b, c + t, r) = pq;
        }
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) {
          float g = 0;
          for (int t = 0; t < CHUNK; ++t)
            g += E[t][i] * AT(k, b, c + t, j);
          W[i][j] -= eta * g;
        }
    }
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j)
        AT(w_out, b, i, j) = W[i][j];
  }
  if (getenv("STANDIN_CORRUPT"))
    AT(o, gx - 1, T - 1, D - 1) += 1.0f;
  return OK;
}

CUresult cuEventCreate(struct event **e, unsigned flags) { (void)flags; *e = calloc(1, sizeof **e); return OK; }
CUresult cuEventDestroy_v2(struct event *e) { free(e); return OK; }
CUresult cuEventRecord(struct event *e, void *stream) {
  (void)stream;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  e->seconds = (double)ts.tv_sec + ts.tv_nsec * 1e-9;
  return OK;
}
CUresult cuEventSynchronize(struct event *e) { (void)e; return OK; }
CUresult cuEventElapsedTime(float *ms, struct event *start, struct event *stop) {
  *ms = (float)((stop->seconds - start->seconds) * 1e3);
  return OK;
}
CUresult cuGetErrorString(CUresult r, const char **s) {
  switch (r) {
  case NO_BINARY_FOR_GPU: *s = "no kernel image is available for execution on the device"; return OK;
  case INVALID_PTX: *s = "a PTX JIT compilation failed"; return OK;
  case INVALID_VALUE: *s = "invalid argument"; return OK;
  case NOT_FOUND: *s = "named symbol not found"; return OK;
  default: *s = "unknown error"; return OK;
  }
}
