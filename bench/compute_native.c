/* The compute benchmark's kernel (bench/compute.c) compiled for the host:
 * the same xorshift generator, table update and dependent load, the same
 * split of `total` iterations over N threads, so that bench/run.sh can put
 * native code's time beside coremu's and QEMU's.
 *
 *   compute_native [total=T] [harts=N]
 *
 * Prints "bench: insns=I ops=O" with the guest's instruction count for the
 * same work (21 instructions per iteration), and exits 1 if the threads'
 * checksums differ. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INSNS_PER_ITER 21

struct job {
  uint64_t iters;
  uint64_t result;
  uint64_t table[64] __attribute__((aligned(64)));
};

static uint64_t kernel(uint64_t *table, uint64_t seed, uint64_t iters) {
  uint64_t x = seed | 1, acc = 0;
  for (uint64_t i = 0; i < iters; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    table[x & 63] += x * 3 + i;
    /* The guest's loads and stores are real memory accesses: keep them. */
    acc += ((volatile uint64_t *)table)[(x + 1) & 63] >> 3;
  }
  return acc;
}

static void *run(void *p) {
  struct job *j = p;
  j->result = kernel(j->table, 0x9e3779b97f4a7c15ull, j->iters);
  return NULL;
}

int main(int argc, char **argv) {
  uint64_t total = 48000000, harts = 1;
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "total=", 6) == 0) total = strtoull(argv[i] + 6, NULL, 10);
    else if (strncmp(argv[i], "harts=", 6) == 0) harts = strtoull(argv[i] + 6, NULL, 10);
    else {
      fprintf(stderr, "compute_native: unexpected '%s' (total=T harts=N)\n", argv[i]);
      return 2;
    }
  }
  if (harts == 0 || harts > 1024) {
    fprintf(stderr, "compute_native: harts=%" PRIu64 " is not 1 to 1024\n", harts);
    return 2;
  }
  uint64_t iters = total / harts ? total / harts : 1;
  struct job *jobs = aligned_alloc(64, sizeof(struct job) * harts);
  pthread_t *th = malloc(sizeof(pthread_t) * harts);
  if (!jobs || !th) return 2;
  memset(jobs, 0, sizeof(struct job) * harts);
  for (uint64_t h = 0; h < harts; h++) {
    jobs[h].iters = iters;
    pthread_create(&th[h], NULL, run, &jobs[h]);
  }
  for (uint64_t h = 0; h < harts; h++) pthread_join(th[h], NULL);
  for (uint64_t h = 1; h < harts; h++)
    if (jobs[h].result != jobs[0].result) {
      fprintf(stderr, "compute_native: thread %" PRIu64 " got another checksum\n", h);
      return 1;
    }
  printf("bench: insns=%" PRIu64 " ops=%" PRIu64 "\n", harts * iters * INSNS_PER_ITER, harts * iters);
  return 0;
}
