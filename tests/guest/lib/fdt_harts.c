/* Counts the harts in a flattened device tree: the nodes named cpu@<n>
 * directly under /cpus. A small, bounds-checked walker over the structure
 * block (no libfdt): returns 0 for anything that is not a valid tree. */
#include "guest.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u

static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int name_is(const char *s, const char *want, int prefix_only) {
  while (*want) {
    if (*s++ != *want++) return 0;
  }
  return prefix_only || *s == 0 || *s == '@';
}

unsigned fdt_count_harts(const void *fdt) {
  const uint8_t *base = (const uint8_t *)fdt;
  /* The tree must be in RAM and aligned. */
  if (!base || ((uintptr_t)base & 3) || (uintptr_t)base < DRAM_BASE) return 0;
  if (be32(base) != FDT_MAGIC) return 0;
  uint32_t total = be32(base + 4), off_struct = be32(base + 8), size_struct = be32(base + 36);
  if (total > (64u << 20) || off_struct >= total || size_struct > total - off_struct) return 0;

  const uint8_t *p = base + off_struct, *end = p + size_struct;
  int depth = 0, in_cpus = 0;
  unsigned count = 0;
  while (p + 4 <= end) {
    uint32_t tok = be32(p);
    p += 4;
    if (tok == FDT_BEGIN_NODE) {
      const char *name = (const char *)p;
      const uint8_t *q = p;
      while (q < end && *q) q++;
      if (q >= end) return 0;
      p = (const uint8_t *)(((uintptr_t)q + 1 + 3) & ~(uintptr_t)3);
      depth++;
      if (depth == 2 && name_is(name, "cpus", 0)) in_cpus = 1;
      if (depth == 3 && in_cpus && name_is(name, "cpu@", 1)) count++;
    } else if (tok == FDT_END_NODE) {
      if (depth == 2) in_cpus = 0;
      if (--depth < 0) return 0;
    } else if (tok == FDT_PROP) {
      if (p + 8 > end) return 0;
      uint32_t len = be32(p);
      if (len > (uint32_t)(end - p) - 8) return 0;
      p += 8 + ((len + 3) & ~3u);
    } else if (tok == FDT_NOP) {
    } else if (tok == FDT_END) {
      break;
    } else {
      return 0;
    }
  }
  return count;
}
