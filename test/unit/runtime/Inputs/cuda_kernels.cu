// The kernels of Inputs/emulated_artifact.c as CUDA C++, compiled by nvcc
// into the cubins and PTX of its "cuda" twin built for GPUs
// (hope-cuda-artifact): the same names, parameters and results as the
// emulated hope_kernel_<name> functions, so that one host code runs both.

// out[i] = a[i] * b[i]
extern "C" __global__ void scale(const float *a, const float *b, float *out,
                                 long long n) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    out[i] = a[i] * b[i];
}

// out[i] = a[i] + b[i], staged through dynamic shared memory (the launch
// asks for 64 KiB: more than a kernel gets without opting in).
extern "C" __global__ void accumulate(const float *a, const float *b,
                                      float *out, long long n) {
  extern __shared__ float shared[];
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  shared[threadIdx.x] = i < n ? a[i] : 0.0f;
  __syncthreads();
  if (i < n)
    out[i] = shared[threadIdx.x] + b[i];
}

// *(int *)out = 1 if some a[i] <= 0, else 0: a precondition check on device
// data, launched with one thread.
extern "C" __global__ void check_positive(const float *a, const float *b,
                                          float *out, long long n) {
  int status = 0;
  for (long long i = 0; i < n; ++i)
    if (!(a[i] > 0))
      status = 1;
  *(int *)out = status;
}
