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
